package store

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"beacon/migrations"
)

// Benchmark sizes from the issue: 100,000 notifications and 10,000 users.
const (
	benchUsers         = 10_000
	benchNotifications = 100_000
)

// seedBench fills s with benchUsers users and benchNotifications
// notifications (one in ten addressed to a user, the rest broadcasts).
// Nothing was scheduled, so each one's id is its position and its
// first_position. User 1 has read nothing; the others have watermarks
// spread over the whole range and about ten single reads above them.
func seedBench(b *testing.B, s *Store) {
	b.Helper()
	stmts := []string{
		`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ` + strconv.Itoa(benchUsers) + `)
		 INSERT INTO users (name, email, password_hash, created_at, updated_at, read_through_id)
		 SELECT 'u' || i, 'u' || i || '@example.com', 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,
		        CASE WHEN i = 1 THEN 0 ELSE (i * 7919) % ` + strconv.Itoa(benchNotifications) + ` END
		 FROM seq`,
		`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ` + strconv.Itoa(benchNotifications) + `)
		 INSERT INTO notifications (title, body, level, recipient_id, created_at, position, first_position)
		 SELECT 'n' || i, '', 'info', CASE WHEN i % 10 = 0 THEN (i * 31) % ` + strconv.Itoa(benchUsers) + ` + 1 END, CURRENT_TIMESTAMP, i, i
		 FROM seq`,
		`INSERT INTO notification_reads (user_id, notification_id, first_position, read_at)
		 SELECT u.id, n.id, n.first_position, CURRENT_TIMESTAMP FROM users u JOIN notifications n
		   ON n.id > u.read_through_id AND n.id <= u.read_through_id + 11 AND n.recipient_id IS NULL
		 WHERE u.id > 1`,
	}
	for _, q := range stmts {
		if err := s.db.Exec(q).Error; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnreadCount measures the header's unread count on SQLite and,
// where it answers, PostgreSQL:
//
//	go test ./app/store -run '^$' -bench UnreadCount -benchtime 3s -v
func BenchmarkUnreadCount(b *testing.B) {
	for name, url := range benchDatabases(b) {
		b.Run(name, func(b *testing.B) { benchUnreadCount(b, open(b, url)) })
	}
}

func benchUnreadCount(b *testing.B, s *Store) {
	ctx := context.Background()
	seedBench(b, s)
	if s.dialect == migrations.Postgres {
		// As autovacuum leaves it in production: statistics, and a
		// visibility map for index-only scans.
		if err := s.db.Exec("VACUUM ANALYZE users, notifications, notification_reads").Error; err != nil {
			b.Fatal(err)
		}
	}
	plan, err := s.ExplainUnreadCount(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("EXPLAIN:\n%s", strings.Join(plan, "\n"))
	// With table statistics, as after an ANALYZE, the plan must not change.
	analyze := "ANALYZE"
	if s.dialect == migrations.Postgres {
		analyze = "ANALYZE users, notifications, notification_reads" // this schema's alone
	}
	if err := s.db.Exec(analyze).Error; err != nil {
		b.Fatal(err)
	}
	analyzed, err := s.ExplainUnreadCount(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if strings.Join(analyzed, "\n") != strings.Join(plan, "\n") {
		b.Fatalf("plan after ANALYZE differs:\n%s", strings.Join(analyzed, "\n"))
	}

	// Watermarks spread evenly over all positions: on average 45,000 unread.
	b.Run("typical user", func(b *testing.B) {
		var id int64 = 2
		for b.Loop() {
			if _, err := s.UnreadCount(ctx, id, NoLimit); err != nil {
				b.Fatal(err)
			}
			id = id%benchUsers + 2
		}
	})
	b.Run("caught-up user", func(b *testing.B) {
		// Read all but the newest 100, as a daily reader would have.
		if err := s.db.Exec("UPDATE users SET read_through_id = ? WHERE id = 3", benchNotifications-100).Error; err != nil {
			b.Fatal(err)
		}
		var n int64
		for b.Loop() {
			if n, err = s.UnreadCount(ctx, 3, NoLimit); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "unread")
	})
	b.Run("user who never read", func(b *testing.B) {
		var n int64
		for b.Loop() {
			if n, err = s.UnreadCount(ctx, 1, NoLimit); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "unread")
	})
}

// BenchmarkUnreadCountInGroups is BenchmarkUnreadCount with audiences: of
// the 100,000 notifications three in ten are addressed to one of 40
// groups, and the user counted is in 20 of them (so about 15,000 reach
// them through a group):
//
//	go test ./app/store -run '^$' -bench UnreadCountInGroups -benchtime 3s -v
func BenchmarkUnreadCountInGroups(b *testing.B) {
	const groups = 40
	for name, url := range benchDatabases(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, url)
			seedBench(b, s)
			g := strconv.Itoa(groups)
			for _, q := range []string{
				`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ` + g + `)
				 INSERT INTO groups (name, open, created_at) SELECT 'g' || i, false, CURRENT_TIMESTAMP FROM seq`,
				// Every user in two groups; users 1 and 3 in the first 20.
				`INSERT INTO group_members (group_id, user_id, created_at)
				 SELECT g.id, u.id, CURRENT_TIMESTAMP FROM users u JOIN groups g
				   ON g.id = u.id % ` + g + ` + 1 OR g.id = (u.id * 7) % ` + g + ` + 1
				 WHERE u.id NOT IN (1, 3)`,
				`INSERT INTO group_members (group_id, user_id, created_at)
				 SELECT g.id, u.id, CURRENT_TIMESTAMP FROM users u JOIN groups g ON g.id <= 20 WHERE u.id IN (1, 3)`,
				`INSERT INTO audiences (digest, created_at) SELECT 'bench ' || id, CURRENT_TIMESTAMP FROM groups`,
				`INSERT INTO audience_members (audience_id, group_id) SELECT a.id, g.id FROM audiences a JOIN groups g ON a.digest = 'bench ' || g.id`,
				`UPDATE notifications SET audience_id = (id * 7) % ` + g + ` + 1 WHERE id % 10 IN (1, 2, 3)`,
			} {
				if err := s.db.Exec(q).Error; err != nil {
					b.Fatal(err)
				}
			}
			if s.dialect == migrations.Postgres {
				if err := s.db.Exec("VACUUM ANALYZE users, notifications, notification_reads, group_members, audiences, audience_members").Error; err != nil {
					b.Fatal(err)
				}
			} else if err := s.db.Exec("ANALYZE").Error; err != nil {
				b.Fatal(err)
			}
			plan, err := s.ExplainUnreadCount(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("EXPLAIN:\n%s", strings.Join(plan, "\n"))
			if err := s.db.Exec("UPDATE users SET read_through_id = ? WHERE id = 3", benchNotifications-100).Error; err != nil {
				b.Fatal(err)
			}
			for _, c := range []struct {
				name string
				user int64
			}{{"user who never read", 1}, {"caught-up user", 3}} {
				b.Run(c.name, func(b *testing.B) {
					var n int64
					for b.Loop() {
						if n, err = s.UnreadCount(ctx, c.user, NoLimit); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n), "unread")
				})
			}
		})
	}
}
