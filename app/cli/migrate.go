package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"beacon/migrations"
)

// migrate runs `beacon migrate up|down|status`.
func migrate(ctx context.Context, env Env, action string) error {
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := migrations.NewProvider(st.SQL(), st.Dialect(), env.Log)
	if err != nil {
		return err
	}
	switch action {
	case "up":
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
	case "down":
		if _, err := p.Down(ctx); err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
	case "status":
		statuses, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tSTATE\tAPPLIED AT\tFILE")
		for _, s := range statuses {
			applied := "-"
			if !s.AppliedAt.IsZero() {
				applied = s.AppliedAt.UTC().Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Source.Version, s.State, applied, s.Source.Path)
		}
		return w.Flush()
	default:
		return ErrUsage
	}
	return nil
}
