package cli

import (
	"context"
	"fmt"
)

// adminRevoke runs `beacon admin revoke EMAIL`: the user stays, without
// admin rights or API tokens. Admin checks read the user on every request,
// so it takes effect at once, in open sessions too.
func adminRevoke(ctx context.Context, env Env, email string) error {
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.RevokeAdmin(ctx, email)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "%s is no longer an admin; their API tokens are revoked.\n", u.Email)
	return err
}
