package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"beacon/app/auth"
	"beacon/app/models"
	"beacon/app/store"
)

// MinPasswordLength is the shortest password Beacon accepts.
const MinPasswordLength = 8

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
	cfg, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.Migrate {
		if err := st.Migrate(ctx, env.Log); err != nil {
			return err
		}
	}
	u, err := ensureAdmin(ctx, st, email, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Admin %s (id %d) is ready; sign in at /login.\n", u.Email, u.ID)
	return nil
}

// ensureAdmin checks the email and password, then creates or promotes the admin.
func ensureAdmin(ctx context.Context, st *store.Store, email, password string) (models.User, error) {
	var out models.User
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != strings.TrimSpace(email) {
		return out, fmt.Errorf("admin: %q is not an email address", email)
	}
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return out, fmt.Errorf("admin: the password must have at least %d characters", MinPasswordLength)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return out, err
	}
	name, _, _ := strings.Cut(addr.Address, "@")
	return st.SaveAdmin(ctx, addr.Address, name, hash)
}
