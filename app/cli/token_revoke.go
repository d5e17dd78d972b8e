package cli

import (
	"context"
	"fmt"
	"strconv"

	"beacon/app/auth"
)

// tokenRevoke runs `beacon token revoke ID_OR_TOKEN`: it deletes the token
// with that id (from `token list`), or the token itself. Every instance
// looks tokens up in the database on each request, so it is refused at
// once everywhere.
func tokenRevoke(ctx context.Context, env Env, idOrToken string) error {
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	if id, err := strconv.ParseInt(idOrToken, 10, 64); err == nil {
		if err := st.DeleteAPIToken(ctx, id); err != nil {
			return fmt.Errorf("token revoke: %w", err)
		}
		_, err = fmt.Fprintf(env.Stdout, "Revoked token %d.\n", id)
		return err
	}
	t, err := st.DeleteAPITokenByHash(ctx, auth.HashAPIToken(idOrToken))
	if err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	_, err = fmt.Fprintf(env.Stdout, "Revoked token %d.\n", t.ID)
	return err
}
