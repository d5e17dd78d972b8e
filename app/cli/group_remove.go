package cli

import (
	"context"
	"fmt"
)

// groupRemove runs `beacon group remove NAME EMAIL…`, all or none, as
// groupAdd.
func groupRemove(ctx context.Context, env Env, name string, emails []string) error {
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	removed, err := st.RemoveGroupMembers(ctx, name, emails)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "Removed %d from %s%s.\n", len(removed), name, unchanged(len(removed), emails, "not in it"))
	return err
}
