package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"beacon/app/auth"
	"beacon/app/config"
	"beacon/app/store"
	"beacon/migrations"
)

// run runs one command against the database at url.
func run(t *testing.T, url, stdin string, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := Run(context.Background(), args, Env{
		Getenv: func(k string) string {
			if k == "DATABASE_URL" {
				return url
			}
			return env[k]
		},
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	return out.String(), err
}

func TestMigrateUpDownStatus(t *testing.T) {
	url := filepath.Join(t.TempDir(), "beacon.db")
	all := len(mustProvider(t).ListSources())
	out, err := run(t, url, "", nil, "migrate", "status")
	if err != nil || strings.Count(out, "pending") != all {
		t.Fatalf("status before up: %v\n%s", err, out)
	}
	if _, err := run(t, url, "", nil, "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	out, _ = run(t, url, "", nil, "migrate", "status")
	if strings.Count(out, "applied") != all {
		t.Fatalf("status after up:\n%s", out)
	}
	if _, err := run(t, url, "", nil, "migrate", "down"); err != nil {
		t.Fatal(err)
	}
	out, _ = run(t, url, "", nil, "migrate", "status")
	if strings.Count(out, "applied") != all-1 || strings.Count(out, "pending") != 1 {
		t.Fatalf("status after down:\n%s", out)
	}
	if _, err := run(t, url, "", nil, "migrate", "sideways"); !errors.Is(err, ErrUsage) {
		t.Fatalf("unknown action: %v", err)
	}
}

func TestAdminCreateThenTokenCreate(t *testing.T) {
	url := filepath.Join(t.TempDir(), "beacon.db")
	if _, err := run(t, url, "short\n", nil, "admin", "create", "ops@example.com"); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if _, err := run(t, url, "", map[string]string{"ADMIN_PASSWORD": "long enough"}, "admin", "create", "not-an-email"); err == nil {
		t.Fatal("a malformed email was accepted")
	}
	if _, err := run(t, url, "typed password\n", nil, "admin", "create", "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	// Running it again promotes and resets instead of failing.
	if _, err := run(t, url, "", map[string]string{"ADMIN_PASSWORD": "second password"}, "admin", "create", "OPS@example.com"); err != nil {
		t.Fatal(err)
	}
	token, err := run(t, url, "", nil, "token", "create", "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(token)

	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	u, err := st.UserByEmail(ctx, "ops@example.com")
	if err != nil || !u.Admin || !auth.CheckPassword(u.PasswordHash, "second password") {
		t.Fatalf("admin %+v %v", u, err)
	}
	owner, err := st.UserByTokenHash(ctx, auth.HashAPIToken(token))
	if err != nil || owner.ID != u.ID {
		t.Fatalf("token %q does not resolve to the admin: %+v %v", token, owner, err)
	}
	if _, err := run(t, url, "", nil, "token", "create", "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token for unknown user: %v", err)
	}
}

// mustProvider lists the embedded migrations.
func mustProvider(t *testing.T) *goose.Provider {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "list.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := migrations.NewProvider(st.SQL(), st.Dialect(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// `beacon webpush keys` prints a pair, as the two settings, that serve
// accepts.
func TestWebPushKeysPrintsAPairTheConfigAccepts(t *testing.T) {
	out, err := run(t, filepath.Join(t.TempDir(), "beacon.db"), "", nil, "webpush", "keys")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "WEBPUSH_PUBLIC_KEY=") || !strings.HasPrefix(lines[1], "WEBPUSH_PRIVATE_KEY=") {
		t.Fatalf("printed %q, want WEBPUSH_PUBLIC_KEY=… and WEBPUSH_PRIVATE_KEY=…", out)
	}
	set := map[string]string{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, "=")
		set[k] = v
	}
	cfg, err := config.Load(func(k string) string { return set[k] })
	if err != nil || cfg.WebPush.Public != set["WEBPUSH_PUBLIC_KEY"] {
		t.Fatalf("config from the printed pair: %+v, %v", cfg.WebPush, err)
	}
}
