package bench_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"beacon/app/bench"
)

// The streams ask for what --fields says: the feed page's html by default,
// nothing with "all"; anything else is refused before a connection opens.
func TestBenchStreamsAskForTheirFields(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("retry: 2000\n\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	for fields, want := range map[string]string{"": "?fields=html", "html": "?fields=html", "json": "?fields=json", "all": "?"} {
		mu.Lock()
		asked = nil
		mu.Unlock()
		rep, err := bench.Run(t.Context(), bench.Options{URL: srv.URL, SSEClients: 2, Fields: fields, Hold: time.Millisecond, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("fields %q: %v", fields, err)
		}
		if rep.SSE.Connected != 2 {
			t.Fatalf("fields %q: %d connected: %v", fields, rep.SSE.Connected, rep.SSE.Errors)
		}
		mu.Lock()
		got := strings.Join(asked, " ")
		mu.Unlock()
		if got != "/notifications/stream"+want+" /notifications/stream"+want {
			t.Fatalf("fields %q: asked for %s, want /notifications/stream%s twice", fields, got, want)
		}
	}
	if _, err := bench.Run(t.Context(), bench.Options{URL: srv.URL, SSEClients: 1, Fields: "title"}); err == nil || !strings.Contains(err.Error(), "--fields") {
		t.Fatalf("fields title: %v, want it refused", err)
	}
}
