package cli

import (
	"context"
	"fmt"
	"strings"

	"beacon/app/auth"
)

// tokenCreate runs `beacon token create EMAIL [--name NAME]`: it prints a
// new API token for that admin, and nothing else on stdout, so that
// scripts can take it. Only its hash is stored, so it is shown this once.
func tokenCreate(ctx context.Context, env Env, args []string) error {
	email, name, err := tokenCreateArgs(args)
	if err != nil {
		return err
	}
	if p := auth.TokenNameProblem(name); p != "" {
		return fmt.Errorf("token create: the name %s", p)
	}
	_, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	if !u.Admin {
		return fmt.Errorf("token create: %s is not an admin (run: beacon admin create %s)", u.Email, u.Email)
	}
	token, hash := auth.NewAPIToken()
	if _, err := st.CreateNamedAPIToken(ctx, u.ID, name, hash); err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, token)
	return err
}

// tokenCreateArgs reads EMAIL and an optional --name NAME (or
// --name=NAME), in either order.
func tokenCreateArgs(args []string) (email, name string, err error) {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--name" || a == "-name":
			if i+1 == len(args) {
				return "", "", ErrUsage
			}
			i++
			name = args[i]
		case strings.HasPrefix(a, "--name=") || strings.HasPrefix(a, "-name="):
			_, name, _ = strings.Cut(a, "=")
		case email == "" && a != "" && a[0] != '-':
			email = a
		default:
			return "", "", ErrUsage
		}
	}
	if email == "" {
		return "", "", ErrUsage
	}
	return email, name, nil
}
