package apptest

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"beacon/app/auth"
	"beacon/app/models"
)

// CreateUser stores a user with this password, hashed at bcrypt's lowest
// cost: signing in works the same, and tests under -race stay quick.
func (a *App) CreateUser(t testing.TB, name, email, password string, admin bool) models.User {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u := models.User{Name: name, Email: email, PasswordHash: string(hash), Admin: admin}
	if err := a.Store.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// The admin WithAdmin creates.
const (
	AdminEmail    = "ada@example.com"
	AdminPassword = "correct horse"
)

// WithAdmin starts the app with an admin, Ada (AdminEmail, AdminPassword),
// and returns her with an API token of hers.
func WithAdmin(t testing.TB, opts Options) (*App, models.User, string) {
	t.Helper()
	a := New(t, opts)
	admin := a.CreateUser(t, "Ada", AdminEmail, AdminPassword, true)
	return a, admin, a.Token(t, admin)
}

// Token stores a new API token for u and returns it.
func (a *App) Token(t testing.TB, u models.User) string {
	t.Helper()
	token, hash := auth.NewAPIToken()
	if _, err := a.Store.CreateNamedAPIToken(context.Background(), u.ID, "", hash); err != nil {
		t.Fatal(err)
	}
	return token
}
