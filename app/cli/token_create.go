package cli

import (
	"context"
	"fmt"

	"beacon/app/auth"
)

// tokenCreate runs `beacon token create EMAIL`: it prints a new API token
// for that admin. Only its hash is stored, so it is shown this once.
func tokenCreate(ctx context.Context, env Env, email string) error {
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	if !u.Admin {
		return fmt.Errorf("token create: %s is not an admin (run: beacon admin create %s)", u.Email, u.Email)
	}
	token, hash := auth.NewAPIToken()
	if err := st.CreateAPIToken(ctx, u.ID, hash); err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, token)
	return err
}
