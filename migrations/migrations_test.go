package migrations_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"beacon/app/pgtest"
	"beacon/migrations"
)

// Two releases running `beacon migrate up` at once on a fresh schema: both
// succeed, and every migration is applied exactly once.
func TestConcurrentUpOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("PostgreSQL not reachable: concurrent migrations are not tested")
	}
	const releases = 2
	var dbs []*sql.DB
	for range releases {
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs = append(dbs, db)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, releases)
	start := make(chan struct{})
	for i, db := range dbs {
		wg.Go(func() {
			<-start
			errs[i] = migrations.Up(ctx, db, migrations.Postgres, nil)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("release %d: %v", i, err)
		}
	}

	p, err := migrations.NewProvider(dbs[0], migrations.Postgres, nil)
	if err != nil {
		t.Fatal(err)
	}
	statuses, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		if s.State != "applied" {
			t.Errorf("migration %d is %s", s.Source.Version, s.State)
		}
	}
	var rows, versions int
	if err := dbs[0].QueryRow("SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0").Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != len(statuses) || versions != len(statuses) {
		t.Fatalf("goose_db_version holds %d rows for %d versions; %d migrations", rows, versions, len(statuses))
	}
}
