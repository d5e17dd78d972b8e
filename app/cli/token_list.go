package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

// tokenList runs `beacon token list EMAIL`: one line per token of that
// user, with its id (what `token revoke` takes), name, when it was created
// and last used. The secret is never kept, so never shown.
func tokenList(ctx context.Context, env Env, email string) error {
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("token list: %w", err)
	}
	ts, err := st.APITokens(ctx, u.ID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tCREATED\tLAST USED")
	for _, t := range ts {
		name, used := t.Name, "never"
		if name == "" {
			name = "-"
		}
		if t.LastUsedAt != nil {
			used = t.LastUsedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", t.ID, name, t.CreatedAt.UTC().Format(time.RFC3339), used)
	}
	return w.Flush()
}
