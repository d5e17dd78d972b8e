package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
)

// groupList runs `beacon group list`: one line per group, by name, with
// whether it is open (a topic) and how many members it has.
func groupList(ctx context.Context, env Env) error {
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	gs, err := st.Groups(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tOPEN\tMEMBERS")
	for _, g := range gs {
		open := "no"
		if g.Open {
			open = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\n", g.Name, open, g.Members)
	}
	return w.Flush()
}
