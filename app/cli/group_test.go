package cli

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"beacon/app/store"
)

// groupsOf is the names of the groups the user with this email is in.
func groupsOf(t *testing.T, st *store.Store, email string) []string {
	t.Helper()
	ctx := context.Background()
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := st.GroupIDsOf(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	gs, err := st.Groups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range gs {
		if slices.Contains(ids, g.ID) {
			names = append(names, g.Name)
		}
	}
	return names
}

// The group commands: create (open or not), add and remove members by
// email all or none, list, delete; a bad name or an unknown email or group
// is an error naming it, and changes nothing.
func TestGroupCommands(t *testing.T) {
	url := filepath.Join(t.TempDir(), "beacon.db")
	if _, err := run(t, url, "", nil, "migrate"); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for _, email := range []string{"a@example.com", "b@example.com"} {
		if _, err := ensureAdmin(ctx, st, email, "long enough"); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := run(t, url, "", nil, "group", "create", "ops"); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, url, "", nil, "group", "create", "--open", "deploys"); err != nil || !strings.Contains(out, "open") {
		t.Fatalf("create --open: %v %q", err, out)
	}
	for _, bad := range []string{"Ops", "on-call!", strings.Repeat("x", 41)} {
		if _, err := run(t, url, "", nil, "group", "create", bad); err == nil || !strings.Contains(err.Error(), "a-z") {
			t.Errorf("create %q: %v, want the name rule", bad, err)
		}
	}
	if _, err := run(t, url, "", nil, "group", "create", "ops", "--open"); !errors.Is(err, store.ErrGroupTaken) {
		t.Fatalf("create a taken name: %v", err)
	}
	for _, args := range [][]string{{"group", "create"}, {"group", "create", "a", "b"}, {"group", "create", "ops", "--closed"},
		{"group", "add", "ops"}, {"group", "remove", "ops"}, {"group", "list", "x"}, {"group", "delete"}, {"group"}} {
		if _, err := run(t, url, "", nil, args...); !errors.Is(err, ErrUsage) {
			t.Errorf("%v: %v, want usage", args, err)
		}
	}

	out, err := run(t, url, "", nil, "group", "add", "ops", "a@example.com", "B@example.com")
	if err != nil || !strings.Contains(out, "Added 2 to ops") {
		t.Fatalf("add: %v %q", err, out)
	}
	if out, err := run(t, url, "", nil, "group", "add", "ops", "a@example.com"); err != nil || !strings.Contains(out, "Added 0 to ops (1 in it already)") {
		t.Fatalf("add again: %v %q", err, out)
	}
	_, err = run(t, url, "", nil, "group", "add", "deploys", "a@example.com", "nobody@example.com")
	if err == nil || !strings.Contains(err.Error(), "nobody@example.com") {
		t.Fatalf("add an unknown email: %v", err)
	}
	_, err = run(t, url, "", nil, "group", "add", "nope", "a@example.com")
	if err == nil || !strings.Contains(err.Error(), "unknown group: nope") {
		t.Fatalf("add to an unknown group: %v", err)
	}
	_, err = run(t, url, "", nil, "group", "remove", "ops", "b@example.com", "ghost@example.com")
	if err == nil || !strings.Contains(err.Error(), "ghost@example.com") {
		t.Fatalf("remove an unknown email: %v", err)
	}
	if got := groupsOf(t, st, "a@example.com"); !slices.Equal(got, []string{"ops"}) {
		t.Fatalf("after refused changes a is in %v, want ops alone", got)
	}
	if got := groupsOf(t, st, "b@example.com"); !slices.Equal(got, []string{"ops"}) {
		t.Fatalf("after refused changes b is in %v, want ops alone", got)
	}

	out, err = run(t, url, "", nil, "group", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !slices.Equal(strings.Fields(lines[1]), []string{"deploys", "yes", "0"}) ||
		!slices.Equal(strings.Fields(lines[2]), []string{"ops", "no", "2"}) {
		t.Fatalf("list:\n%s", out)
	}

	if out, err := run(t, url, "", nil, "group", "remove", "ops", "b@example.com"); err != nil || !strings.Contains(out, "Removed 1 from ops") {
		t.Fatalf("remove: %v %q", err, out)
	}
	if got := groupsOf(t, st, "b@example.com"); len(got) != 0 {
		t.Fatalf("b is still in %v", got)
	}
	if out, err := run(t, url, "", nil, "group", "delete", "ops"); err != nil || !strings.Contains(out, "it had 1 member.") {
		t.Fatalf("delete: %v %q", err, out)
	}
	if _, err := run(t, url, "", nil, "group", "delete", "ops"); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "ops") {
		t.Fatalf("delete it again: %v", err)
	}
	if out, _ := run(t, url, "", nil, "group", "list"); strings.Contains(out, "ops") {
		t.Fatalf("list after delete:\n%s", out)
	}
	// Every change a member saw is in the log the instances poll.
	cs, err := st.GroupChangesAfter(ctx, 0, 100)
	if err != nil || len(cs) != 4 { // a and b added, b removed, a by the delete
		t.Fatalf("%d changes logged (%v), want 4", len(cs), err)
	}
}
