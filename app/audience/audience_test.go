package audience_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"beacon/app/audience"
	"beacon/app/models"
	"beacon/app/pgtest"
	"beacon/app/store"
)

// The rule's cases: who sees what. Sees, Where, SQL with a column and
// Branches must each give exactly these, on both databases. ops has ann and
// bob, dev has cat, empty nobody.
var cases = []struct {
	to   []string // as a post names them: users' names and group:NAME
	sees []string
}{
	{nil, []string{"visitor", "ann", "bob", "cat"}},
	{[]string{"ann"}, []string{"ann"}},
	{[]string{"bob"}, []string{"bob"}},
	{[]string{"ann", "bob"}, []string{"ann", "bob"}},
	{[]string{"group:ops"}, []string{"ann", "bob"}},
	{[]string{"cat", "group:ops"}, []string{"ann", "bob", "cat"}},
	{[]string{"ann", "group:ops"}, []string{"ann", "bob"}},
	{[]string{"group:dev", "group:empty"}, []string{"cat"}},
	{[]string{"group:empty"}, nil},
}

func TestGoAndSQLAgree(t *testing.T) {
	dbs := map[string]string{"sqlite": filepath.Join(t.TempDir(), "beacon.db")}
	if url := pgtest.URL(t); url != "" {
		dbs["postgres"] = url
	} else {
		t.Log("PostgreSQL not reachable: checking SQLite only")
	}
	for name, url := range dbs {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, db := open(t, url)
			for _, g := range []string{"ops", "dev", "empty"} {
				if _, err := st.CreateGroup(ctx, g, false); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range []string{"ann", "bob", "cat"} {
				u := models.User{Name: name, Email: name + "@example.com", PasswordHash: "x"}
				if err := st.CreateUser(ctx, &u); err != nil {
					t.Fatal(err)
				}
			}
			for g, emails := range map[string][]string{"ops": {"ann@example.com", "bob@example.com"}, "dev": {"cat@example.com"}} {
				if _, err := st.AddGroupMembers(ctx, g, emails); err != nil {
					t.Fatal(err)
				}
			}
			viewers := map[string]audience.Viewer{"visitor": audience.User(0)}
			for _, name := range []string{"ann", "bob", "cat"} {
				u, err := st.UserByEmail(ctx, name+"@example.com")
				if err != nil {
					t.Fatal(err)
				}
				groups, err := st.GroupIDsOf(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				viewers[name] = audience.Member(u.ID, groups)
			}
			ns := map[string]models.Notification{}
			for _, c := range cases {
				var to []string
				for _, e := range c.to {
					if !strings.HasPrefix(e, "group:") {
						e += "@example.com"
					}
					to = append(to, e)
				}
				addressed, err := st.Address(ctx, to)
				if err != nil {
					t.Fatal(err)
				}
				n := models.Notification{Title: fmt.Sprint("for ", c.to), Level: "info"}
				addressed.Apply(&n)
				if _, err := st.CreateOrReplaceNotification(ctx, &n); err != nil {
					t.Fatal(err)
				}
				ns[n.Title] = n
			}
			for viewer, v := range viewers {
				var want []int64
				for _, c := range cases {
					n := ns[fmt.Sprint("for ", c.to)]
					if sees := slices.Contains(c.sees, viewer); audience.Of(n).Sees(v) != sees {
						t.Errorf("Go: %s sees the notification %s: %v, want %v", viewer, n.Title, !sees, sees)
					} else if sees {
						want = append(want, n.ID)
					}
				}
				slices.Sort(want)
				cond, args := audience.Where("n", v)
				check(t, viewer, "Where", want, db.Table("notifications n").Where(cond, args...))

				viewerSQL, from := "", db.Table("notifications n")
				if v.UserID != 0 {
					// As the counts use it: the viewer a users row.
					viewerSQL, from = "u.id", db.Table("notifications n, users u").Where("u.id = ?", v.UserID)
					check(t, viewer, "SQL(n, u.id)", want, from.Session(&gorm.Session{}).Where(audience.SQL("n", viewerSQL)))
				}
				// Counted branch by branch, no notification twice.
				var sum []int64
				for _, b := range audience.Branches("n", viewerSQL) {
					var got []int64
					if err := from.Session(&gorm.Session{}).Where(b).Order("n.id").Pluck("n.id", &got).Error; err != nil {
						t.Fatal(err)
					}
					sum = append(sum, got...)
				}
				slices.Sort(sum)
				if fmt.Sprint(sum) != fmt.Sprint(want) {
					t.Errorf("Branches for %s give %v, want %v", viewer, sum, want)
				}
			}
		})
	}
}

// check fails the test unless q's notifications are want.
func check(t *testing.T, viewer, form string, want []int64, q *gorm.DB) {
	t.Helper()
	var got []int64
	if err := q.Order("n.id").Pluck("n.id", &got).Error; err != nil {
		t.Fatalf("%s for %s: %v", form, viewer, err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: %s sees %v, Go says %v", form, viewer, got, want)
	}
}

// open is a migrated store at url, and GORM over its connections for the
// queries the store keeps to itself.
func open(t *testing.T, url string) (*store.Store, *gorm.DB) {
	t.Helper()
	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	dialector := gorm.Dialector(sqlite.New(sqlite.Config{Conn: st.SQL()}))
	if store.IsPostgres(url) {
		dialector = postgres.New(postgres.Config{Conn: st.SQL()})
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return st, db
}
