package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"beacon/app/auth"
	"beacon/app/models"
	"beacon/app/store"
)

// adminCreate runs `beacon admin create EMAIL`.
func adminCreate(ctx context.Context, env Env, email string) error {
	password := env.Getenv("ADMIN_PASSWORD")
	if password == "" && env.Stdin != nil {
		fmt.Fprintf(env.Stdout, "Password for %s: ", email)
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("admin create: no password: set ADMIN_PASSWORD or type it on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	_, st, err := openMigrated(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := ensureAdmin(ctx, st, email, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Admin %s (id %d) is ready; sign in at /login.\n", u.Email, u.ID)
	return nil
}

// ensureAdmin checks the email and password by the account rules sign-up
// follows, then creates or promotes the admin.
func ensureAdmin(ctx context.Context, st *store.Store, email, password string) (models.User, error) {
	email = strings.TrimSpace(email)
	if !auth.ValidEmail(email) {
		return models.User{}, fmt.Errorf("admin: %q is not an email address", email)
	}
	if p := auth.PasswordProblem(password); p != "" {
		return models.User{}, fmt.Errorf("admin: the password %s", p)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return models.User{}, err
	}
	name, _, _ := strings.Cut(email, "@")
	return st.SaveAdmin(ctx, email, name, hash)
}
