package cli

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"beacon/app/auth"
	"beacon/app/store"
)

// The token commands: create with a name (stdout is the token alone),
// list without secrets, revoke by id or by the token; admin revoke.
func TestTokenListRevokeAndAdminRevoke(t *testing.T) {
	url := filepath.Join(t.TempDir(), "beacon.db")
	admin := map[string]string{"ADMIN_PASSWORD": "long enough"}
	if _, err := run(t, url, "", admin, "admin", "create", "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	deploy, err := run(t, url, "", nil, "token", "create", "ops@example.com", "--name", "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^bcn_\S+\n$`).MatchString(deploy) {
		t.Fatalf("token create printed %q, want the token alone", deploy)
	}
	deploy = strings.TrimSpace(deploy)
	ci, err := run(t, url, "", nil, "token", "create", "--name=ci", "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ci = strings.TrimSpace(ci)
	if _, err := run(t, url, "", nil, "token", "create", "ops@example.com", "--name"); !errors.Is(err, ErrUsage) {
		t.Fatalf("--name without a value: %v", err)
	}
	if _, err := run(t, url, "", nil, "token", "create", "ops@example.com", "--name", "bad\u202ename"); err == nil {
		t.Fatal("a name with U+202E was accepted")
	}

	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, err := st.UserByTokenHash(ctx, auth.HashAPIToken(deploy)); err != nil { // marks it used
		t.Fatal(err)
	}

	out, err := run(t, url, "", nil, "token", "list", "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("token list:\n%s", out)
	}
	deployLine, ciLine := strings.Fields(lines[1]), strings.Fields(lines[2])
	if len(deployLine) != 4 || deployLine[1] != "deploy" || deployLine[3] == "never" || ciLine[1] != "ci" || ciLine[3] != "never" {
		t.Fatalf("token list:\n%s", out)
	}
	if strings.Contains(out, deploy) || strings.Contains(out, ci) || strings.Contains(out, auth.HashAPIToken(ci)) {
		t.Fatalf("token list shows a secret:\n%s", out)
	}

	// Revoke by id, then by the token itself: both are refused at once.
	if _, err := run(t, url, "", nil, "token", "revoke", deployLine[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UserByTokenHash(ctx, auth.HashAPIToken(deploy)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked by id, still found: %v", err)
	}
	if _, err := run(t, url, "", nil, "token", "revoke", deployLine[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking it again: %v", err)
	}
	if _, err := run(t, url, "", nil, "token", "revoke", ci); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UserByTokenHash(ctx, auth.HashAPIToken(ci)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked by token, still found: %v", err)
	}

	// admin revoke: the user stays, without admin rights or tokens.
	last, _ := run(t, url, "", nil, "token", "create", "ops@example.com")
	if _, err := run(t, url, "", nil, "admin", "revoke", "OPS@example.com"); err != nil {
		t.Fatal(err)
	}
	u, err := st.UserByEmail(ctx, "ops@example.com")
	if err != nil || u.Admin {
		t.Fatalf("after admin revoke: %+v %v", u, err)
	}
	if _, err := st.UserByTokenHash(ctx, auth.HashAPIToken(strings.TrimSpace(last))); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a demoted admin's token survives: %v", err)
	}
	if _, err := run(t, url, "", nil, "token", "create", "ops@example.com"); err == nil {
		t.Fatal("token create for a demoted admin")
	}
	if _, err := run(t, url, "", nil, "admin", "revoke", "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("admin revoke of nobody: %v", err)
	}
}
