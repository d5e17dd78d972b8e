package controllers_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"beacon/app/apptest"
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
