package cli

import (
	"context"
	"fmt"
)

// groupDelete runs `beacon group delete NAME`. Its members' streams hear
// of it as of any membership change; what was addressed to the group
// leaves the feeds of those who saw it only through it.
func groupDelete(ctx context.Context, env Env, name string) error {
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	members, err := st.DeleteGroup(ctx, name)
	if err != nil {
		return err
	}
	noun := "members"
	if len(members) == 1 {
		noun = "member"
	}
	_, err = fmt.Fprintf(env.Stdout, "Group %s deleted; it had %d %s.\n", name, len(members), noun)
	return err
}
