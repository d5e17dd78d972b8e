package cli

import (
	"context"
	"fmt"

	"beacon/app/models"
)

// groupCreate runs `beacon group create NAME [--open]`. An open group is a
// topic: signed-in users follow and leave it on /topics.
func groupCreate(ctx context.Context, env Env, args []string) error {
	var name string
	var open bool
	for _, a := range args {
		switch {
		case a == "--open" || a == "-open":
			open = true
		case name == "" && a != "" && a[0] != '-':
			name = a
		default:
			return ErrUsage
		}
	}
	if name == "" {
		return ErrUsage
	}
	if !models.ValidGroupName(name) {
		return fmt.Errorf("group create: %q is not a group name: group names are %s", name, models.GroupNameRule)
	}
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.CreateGroup(ctx, name, open); err != nil {
		return err
	}
	kind := "closed: admins choose its members"
	if open {
		kind = "open: a topic signed-in users follow and leave on /topics"
	}
	_, err = fmt.Fprintf(env.Stdout, "Group %s created (%s).\n", name, kind)
	return err
}
