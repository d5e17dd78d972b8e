package chat_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"beacon/app/apptest"
	"beacon/app/broker"
	"beacon/app/chat"
	"beacon/app/config"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/components"
)

// wait bounds what a chat test waits for.
const wait = 5 * time.Second

// chatRig is a chat hub over a real SQLite store and the in-process
// broker, behind an httptest server that upgrades /chat/ROOM/ws?user=ID
// (and &after=ID) for that user, as the controller does once the
// handshake (session, Origin) is checked.
type chatRig struct {
	store  *store.Store
	broker *broker.Memory
	hub    *chat.Hub
	server *httptest.Server
	cancel context.CancelFunc
	done   chan error
}

// newChatRig starts a hub; zero options take config's defaults, as
// `beacon serve` does.
func newChatRig(t testing.TB, opts chat.Options) *chatRig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "beacon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return startChatHub(t, st, broker.NewMemory(), opts)
}

// another starts a second instance: a hub of its own, on the same
// database and broker, behind a server of its own.
func (r *chatRig) another(t testing.TB, opts chat.Options) *chatRig {
	t.Helper()
	return startChatHub(t, r.store, r.broker, opts)
}

func startChatHub(t testing.TB, st *store.Store, b *broker.Memory, opts chat.Options) *chatRig {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if opts.MessageRate == 0 {
		opts.MessageRate = rate.Limit(cfg.ChatRate)
	}
	if opts.MessageBurst == 0 {
		opts.MessageBurst = cfg.ChatBurst
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &chatRig{store: st, broker: b, done: make(chan error, 1)}
	r.hub, err = chat.NewHub(st, components.ChatMessageHTML, b, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.hub.Run(ctx) }()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /chat/{room}/ws", r.serve)
	r.server = httptest.NewServer(mux)
	t.Cleanup(func() {
		r.stop(t)
		r.server.Close()
	})
	return r
}

func (r *chatRig) serve(w http.ResponseWriter, req *http.Request) {
	id, err := strconv.ParseInt(req.URL.Query().Get("user"), 10, 64)
	if err != nil {
		http.Error(w, "user", http.StatusBadRequest)
		return
	}
	user, err := r.store.UserByID(req.Context(), id)
	if err != nil {
		http.Error(w, "user", http.StatusBadRequest)
		return
	}
	var after int64
	if v := req.URL.Query().Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil {
			http.Error(w, "after", http.StatusBadRequest)
			return
		}
	}
	conn, err := (&websocket.Upgrader{}).Upgrade(w, req, nil)
	if err != nil {
		return
	}
	r.hub.Serve(req.Context(), conn, chat.Request{User: user, Room: req.PathValue("room"), After: after, SignedIn: func() bool { return true }})
}

// stop ends the hub's Run, as a shutdown does, and waits for it.
func (r *chatRig) stop(t testing.TB) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("chat hub: %v", err)
	}
}

// user stores a user called name.
func (r *chatRig) user(t testing.TB, name string) models.User {
	t.Helper()
	u := models.User{Name: name, Email: strings.ToLower(name) + "@example.com", PasswordHash: "-"}
	if err := r.store.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// dial opens u's connection to room with dialer (nil: the default),
// after the message id after (0: none); the test's end closes it.
func (r *chatRig) dial(t testing.TB, u models.User, room string, after int64, dialer *websocket.Dialer) *websocket.Conn {
	t.Helper()
	conn, err := r.connect(u, room, after, dialer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// connect is dial for any goroutine: the caller closes the connection.
func (r *chatRig) connect(u models.User, room string, after int64, dialer *websocket.Dialer) (*websocket.Conn, error) {
	if dialer == nil {
		dialer = websocket.DefaultDialer
	}
	url := fmt.Sprintf("ws%s/chat/%s/ws?user=%d", strings.TrimPrefix(r.server.URL, "http"), room, u.ID)
	if after > 0 {
		url += fmt.Sprintf("&after=%d", after)
	}
	conn, resp, err := dialer.Dial(url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	return conn, nil
}

// join connects u to room and reads the history and presence frames that
// open every connection.
func (r *chatRig) join(t testing.TB, u models.User, room string) (*apptest.Chatter, []apptest.ChatFrame, []string) {
	t.Helper()
	return apptest.Join(t, r.dial(t, u, room, 0, nil))
}

func TestChatTwoUsersTalkAndAnotherRoomHearsNothing(t *testing.T) {
	r := newChatRig(t, chat.Options{})
	ann, _, _ := r.join(t, r.user(t, "Ann"), "general")
	bob, _, online := r.join(t, r.user(t, "Bob"), "general")
	if !slices.Equal(online, []string{"Ann", "Bob"}) {
		t.Fatalf("online %v", online)
	}
	cy, _, _ := r.join(t, r.user(t, "Cy"), "other")

	ann.Say("hello <script>alert(1)</script>")
	for _, c := range []*apptest.Chatter{ann, bob} {
		m := c.NextOf("message")
		if m.ID == 0 || m.Room != "general" || m.User.Name != "Ann" || m.Body != "hello <script>alert(1)</script>" || m.CreatedAt == "" {
			t.Fatalf("got %+v", m)
		}
		if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "hello &lt;script&gt;") ||
			!strings.Contains(m.HTML, fmt.Sprintf(`id="chat-message-%d"`, m.ID)) {
			t.Fatalf("html %q: body must be escaped text", m.HTML)
		}
	}
	// Cy's first message frame is his own: nothing from general reached him.
	cy.Say("anyone here?")
	if m := cy.NextOf("message"); m.Body != "anyone here?" || m.Room != "other" {
		t.Fatalf("other room got %+v", m)
	}
	if ms := apptest.ChatMessages(t, r.store, "general"); len(ms) != 1 || ms[0].Body != "hello <script>alert(1)</script>" {
		t.Fatalf("stored %+v", ms)
	}
}

func TestChatHistoryOnConnect(t *testing.T) {
	r := newChatRig(t, chat.Options{})
	ann := r.user(t, "Ann")
	for i := range 55 {
		m := models.ChatMessage{Room: "general", UserID: ann.ID, Body: fmt.Sprintf("<i>m%d</i>", i)}
		if err := r.store.CreateChatMessage(context.Background(), &m); err != nil {
			t.Fatal(err)
		}
	}

	_, history, online := r.join(t, ann, "general")
	if len(history) != 50 || history[0].Body != "<i>m5</i>" || history[49].Body != "<i>m54</i>" ||
		history[0].User.Name != "Ann" || history[0].Type != "message" || history[0].HTML == "" {
		t.Fatalf("history: %d messages, first %+v", len(history), history[0])
	}
	if !slices.Equal(online, []string{"Ann"}) {
		t.Fatalf("online %v", online)
	}
}

func TestChatPresenceOnJoinAndLeave(t *testing.T) {
	r := newChatRig(t, chat.Options{})
	ann, _, online := r.join(t, r.user(t, "Ann"), "general")
	if !slices.Equal(online, []string{"Ann"}) {
		t.Fatalf("online %v", online)
	}
	bobUser := r.user(t, "Bob")
	bob, _, _ := r.join(t, bobUser, "general")
	if p := ann.NextOf("presence"); !slices.Equal(p.Online, []string{"Ann", "Bob"}) {
		t.Fatalf("after Bob joined: %v", p.Online)
	}
	// A second tab of Bob's is still one Bob: no presence change for Ann.
	bob2, _, online := r.join(t, bobUser, "general")
	if !slices.Equal(online, []string{"Ann", "Bob"}) {
		t.Fatalf("second tab sees %v", online)
	}
	bob.Conn.Close()
	bob2.Conn.Close()
	if p := ann.NextOf("presence"); !slices.Equal(p.Online, []string{"Ann"}) {
		t.Fatalf("after Bob left: %v", p.Online)
	}
}

func TestChatShutdownClosesWithGoingAway(t *testing.T) {
	r := newChatRig(t, chat.Options{})
	ann, _, _ := r.join(t, r.user(t, "Ann"), "general")
	bob, _, _ := r.join(t, r.user(t, "Bob"), "other")
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.stop(t)
	}()
	for _, c := range []*apptest.Chatter{ann, bob} {
		if code := c.Closed(); code != websocket.CloseGoingAway {
			t.Errorf("close code %d, want 1001", code)
		}
	}
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("the hubs did not stop")
	}
}

// A client that reconnects with ?after=ID gets what it missed as its
// history, even more than the 50 a new client gets, each message once.
func TestChatReconnectCatchesUpOnWhatItMissed(t *testing.T) {
	r := newChatRig(t, chat.Options{MessageRate: 1000, MessageBurst: 1000})
	ann, bea := r.user(t, "Ann"), r.user(t, "Bea")
	talker, _, _ := r.join(t, bea, "general")
	talker.Say("seen by Ann")
	seen := talker.NextOf("message")

	for i := range 60 {
		talker.Say(fmt.Sprint("missed ", i))
		talker.NextOf("message")
	}
	back := &apptest.Chatter{T: t, Conn: r.dial(t, ann, "general", seen.ID, nil)}
	h := back.Next()
	if h.Type != "history" || len(h.Messages) != 60 || h.Messages[0].Body != "missed 0" || h.Messages[59].Body != "missed 59" {
		t.Fatalf("history of %d, first %+v", len(h.Messages), h.Messages[0])
	}
	for i := 1; i < len(h.Messages); i++ {
		if h.Messages[i].ID <= h.Messages[i-1].ID {
			t.Fatalf("history out of order at %d", i)
		}
	}
}

// A client that reconnects with ?after= its newest message missed
// nothing: its history is empty, not the room's last 50 again, and what
// is said next reaches it live.
func TestChatReconnectAfterTheNewestGetsNoHistory(t *testing.T) {
	r := newChatRig(t, chat.Options{MessageRate: 1000, MessageBurst: 1000})
	ann, bea := r.user(t, "Ann"), r.user(t, "Bea")
	talker, _, _ := r.join(t, bea, "general")
	var newest apptest.ChatFrame
	for i := range 3 {
		talker.Say(fmt.Sprint("before ", i))
		newest = talker.NextOf("message")
	}
	back, history, _ := apptest.Join(t, r.dial(t, ann, "general", newest.ID, nil))
	if len(history) != 0 {
		t.Fatalf("history of %d after the newest message (id %d), want none: first %+v", len(history), newest.ID, history[0])
	}
	talker.Say("after")
	if m := back.NextOf("message"); m.Body != "after" {
		t.Fatalf("next message %+v, want the one said after reconnecting", m)
	}
	// One that missed the newest gets that one alone.
	_, history, _ = apptest.Join(t, r.dial(t, ann, "general", newest.ID-1, nil))
	if len(history) != 2 || history[0].ID != newest.ID || history[1].Body != "after" {
		t.Fatalf("history after id %d: %+v, want the last two", newest.ID-1, history)
	}
}

// The hub counts each connection (the beacon_chat_connections gauge) from
// its join until it ends, across every ping slot it spreads them over.
func TestChatConnectionsCountsEachSocketUntilItEnds(t *testing.T) {
	r := newChatRig(t, chat.Options{})
	ann := r.user(t, "Ann")
	const n = 65 // more than two rounds of the hub's 30 ping slots
	conns := make([]*websocket.Conn, 0, n)
	for i := range n {
		c, _, _ := r.join(t, ann, fmt.Sprint("room", i%3))
		conns = append(conns, c.Conn)
	}
	if got := r.hub.Connections(); got != n {
		t.Fatalf("%d connections, want %d", got, n)
	}
	for _, c := range conns {
		c.Close()
	}
	deadline := time.Now().Add(wait)
	for r.hub.Connections() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections counted after every one closed", r.hub.Connections())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
