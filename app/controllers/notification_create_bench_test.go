package controllers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/models"
	"beacon/app/pgtest"
)

// BenchmarkAPIPostNotification is the publish call of `beacon bench`
// scenario B without its subscribers: POST /api/notifications from 8
// concurrent clients (4 per GOMAXPROCS on 2 cores) against the real app
// on a SQLite file, each call returning after its commit. Allocations are
// the process's, client and server:
//
//	go test -run '^$' -bench APIPostNotification -benchmem ./app/controllers/
func BenchmarkAPIPostNotification(b *testing.B) {
	app, _, token := apptest.WithAdmin(b, apptest.Options{})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	client := &http.Client{Transport: tr}
	b.Cleanup(tr.CloseIdleConnections)
	body := []byte(`{"title":"bench","body":"beacon bench","level":"info"}`)
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest(http.MethodPost, app.URL+"/api/notifications", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("POST /api/notifications: %s", resp.Status)
				return
			}
		}
	})
}

// BenchmarkAPIPostToAudience is one API client posting, one call after
// another, to one user, to 1,000 users by email, and to a group of 1,000,
// on SQLite and (where it answers) PostgreSQL. It reports each call's
// latency at p50 and p99, and the rows a post adds (one notification; the
// audience's rows are stored once, by the first post to it):
//
//	go test -run '^$' -bench APIPostToAudience -benchtime 200x ./app/controllers/
func BenchmarkAPIPostToAudience(b *testing.B) {
	dbs := []apptest.Options{{}}
	if url := pgtest.URL(b); url != "" {
		dbs = append(dbs, apptest.Options{DatabaseURL: url})
	}
	for _, opts := range dbs {
		name := "sqlite"
		if opts.DatabaseURL != "" {
			name = "postgres"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			app, _, token := apptest.WithAdmin(b, opts)
			var emails []string
			for i := range models.MaxAudience {
				u := models.User{Name: fmt.Sprint("u", i), Email: fmt.Sprintf("u%d@example.com", i), PasswordHash: "x"}
				if err := app.Store.CreateUser(ctx, &u); err != nil {
					b.Fatal(err)
				}
				emails = append(emails, u.Email)
			}
			if _, err := app.Store.CreateGroup(ctx, "everyone-1000", false); err != nil {
				b.Fatal(err)
			}
			if _, err := app.Store.AddGroupMembers(ctx, "everyone-1000", emails); err != nil {
				b.Fatal(err)
			}
			for _, c := range []struct {
				name string
				to   []string
			}{{"one user", emails[:1]}, {"1000 users", emails}, {"group of 1000", []string{"group:everyone-1000"}}} {
				b.Run(c.name, func(b *testing.B) {
					body, err := json.Marshal(map[string]any{"title": "bench", "body": "beacon bench", "to": c.to})
					if err != nil {
						b.Fatal(err)
					}
					rows := func() int64 {
						var n int64
						if err := app.Store.SQL().QueryRow("SELECT (SELECT COUNT(*) FROM notifications) + (SELECT COUNT(*) FROM audiences) + (SELECT COUNT(*) FROM audience_members)").Scan(&n); err != nil {
							b.Fatal(err)
						}
						return n
					}
					before := rows()
					var took []time.Duration
					for b.Loop() {
						start := time.Now()
						resp, answer := app.PostAPI(b, token, json.RawMessage(body))
						took = append(took, time.Since(start))
						if resp.StatusCode != http.StatusCreated {
							b.Fatalf("POST to %s: %d %s", c.name, resp.StatusCode, answer)
						}
					}
					b.StopTimer()
					slices.Sort(took)
					b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(rows()-before)/float64(len(took)), "rows/post")
				})
			}
		})
	}
}
