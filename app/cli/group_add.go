package cli

import (
	"context"
	"fmt"

	"beacon/app/store"
)

// groupAdd runs `beacon group add NAME EMAIL…`: all of them or, for an
// unknown group or email, none. Every instance's streams of those users
// hear of it within a second or two (see jobs.GroupWatch).
func groupAdd(ctx context.Context, env Env, name string, emails []string) error {
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	added, err := st.AddGroupMembers(ctx, name, emails)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "Added %d to %s%s.\n", len(added), name, unchanged(len(added), emails, "in it already"))
	return err
}

// unchanged says how many of the users named did not change, and why.
func unchanged(changed int, emails []string, why string) string {
	// Emails in other letter cases, or twice, name one user: count users.
	if rest := distinctEmails(emails) - changed; rest > 0 {
		return fmt.Sprintf(" (%d %s)", rest, why)
	}
	return ""
}

// distinctEmails counts emails as the store tells users apart.
func distinctEmails(emails []string) int {
	seen := make(map[string]bool, len(emails))
	for _, e := range emails {
		seen[store.NormalizeEmail(e)] = true
	}
	return len(seen)
}
