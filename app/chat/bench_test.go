package chat_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"beacon/app/broker"
	"beacon/app/chat"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/components"
)

// BenchmarkChatBroadcast delivers one chat message per op to N sockets
// in one room: the room loads it, renders its frame once and writes it to
// every socket. Storing the message is outside the timer (and the
// allocation count); the clients read raw bytes into their own buffers, so
// the allocations are the server's. The raw readers answer no pings: keep
// a run well under the hub's 30 s ping period.
//
//	go test -run '^$' -bench ChatBroadcast -benchmem ./app/chat/
func BenchmarkChatBroadcast(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchChatBroadcast(b, n) })
	}
}

func benchChatBroadcast(b *testing.B, n int) {
	st, err := store.Open(filepath.Join(b.TempDir(), "beacon.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	r := struct {
		store  *store.Store
		broker *broker.Memory
	}{st, broker.NewMemory()}
	ctx := context.Background()
	user := models.User{Name: "Bench", Email: "bench@example.com", PasswordHash: "x"}
	if err := r.store.CreateUser(ctx, &user); err != nil {
		b.Fatal(err)
	}
	hub, err := chat.NewHub(r.store, components.ChatMessageHTML, r.broker, slog.New(slog.DiscardHandler),
		chat.Options{MessageRate: 10, MessageBurst: 20})
	if err != nil {
		b.Fatal(err)
	}
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan error, 1)
	go func() { hubDone <- hub.Run(hubCtx) }()
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		conn, err := up.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		hub.Serve(req.Context(), conn, chat.Request{User: user, Room: "bench", SignedIn: func() bool { return true }})
	}))

	var (
		want    atomic.Pointer[[]byte] // `"id":N,` of the awaited message
		got     atomic.Int64
		all     = make(chan struct{}, 1)
		readers sync.WaitGroup
		conns   = make([]*websocket.Conn, n)
	)
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
	for i := range n {
		conn, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = conn
		// The history and the online list come first; nothing else is
		// sent until the benchmark posts, so the rest may be read raw.
		for _, kind := range []string{`"type":"history"`, `"type":"presence"`} {
			if _, frame, err := conn.ReadMessage(); err != nil || !bytes.Contains(frame, []byte(kind)) {
				b.Fatalf("client %d: want %s, got %q %v", i, kind, frame, err)
			}
		}
		readers.Go(func() { awaitRaw(conn.NetConn(), &want, &got, n, all) })
	}
	b.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
		readers.Wait()
		stopHub()
		<-hubDone
		srv.Close()
	})

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		m := models.ChatMessage{Room: "bench", UserID: user.ID, Body: "hello, room"}
		if err := r.store.CreateChatMessage(ctx, &m); err != nil {
			b.Fatal(err)
		}
		pattern := []byte(`"id":` + strconv.FormatInt(m.ID, 10) + `,`)
		want.Store(&pattern)
		got.Store(0)
		b.StartTimer()
		if err := r.broker.Publish(ctx, broker.ChatTopic("bench")); err != nil {
			b.Fatal(err)
		}
		select {
		case <-all:
		case <-time.After(30 * time.Second):
			b.Fatalf("only %d of %d clients got message %d", got.Load(), n, m.ID)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n), "deliveries/op")
}

// awaitRaw reads a socket's bytes (server frames are not masked, so the
// JSON is there as sent) and counts each time the awaited id arrives.
func awaitRaw(conn io.Reader, want *atomic.Pointer[[]byte], got *atomic.Int64, n int, all chan<- struct{}) {
	buf := make([]byte, 16<<10)
	keep := 0 // bytes kept from the last read, in case a pattern straddles reads
	var seen *[]byte
	for {
		k, err := conn.Read(buf[keep:])
		if err != nil {
			return
		}
		window := buf[:keep+k]
		if p := want.Load(); p != nil && p != seen && bytes.Contains(window, *p) {
			seen = p
			if got.Add(1) == int64(n) {
				all <- struct{}{}
			}
		}
		keep = min(len(window), 32)
		copy(buf, window[len(window)-keep:])
	}
}
