package cli

import (
	"context"
	"fmt"
)

// adminRevoke runs `beacon admin revoke EMAIL`: the user stays, without
// admin rights or API tokens. Admin checks read the user on every request,
// so it takes effect at once, in open sessions too; the running instances
// are told that the tokens are gone.
func adminRevoke(ctx context.Context, env Env, email string) error {
	cfg, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.RevokeAdmin(ctx, email)
	if err != nil {
		return err
	}
	if _, err = fmt.Fprintf(env.Stdout, "%s is no longer an admin; their admin API tokens are revoked.\n", u.Email); err != nil {
		return err
	}
	return tellInstances(ctx, env, cfg, st, u.ID)
}
