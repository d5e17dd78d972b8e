package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"beacon/app/apptest"
	"beacon/app/pgtest"
	"beacon/app/store"
)

// These tests run several `beacon serve` processes, the built binary, on
// one PostgreSQL schema, and check that they behave as one Beacon. Without
// PostgreSQL they skip.

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// beaconBinary builds beacon once for every cluster test.
func beaconBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "beacon-cluster-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "beacon")
		if out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// cluster is Beacon instances on one database schema.
type cluster struct {
	url     string // DATABASE_URL
	appName string // application_name of every connection of ours
	store   *store.Store
	token   string // an admin's API token
	nodes   []*node
}

// node is one instance: a subprocess of the built binary.
type node struct {
	name string
	base string
	cmd  *exec.Cmd
	app  *apptest.App
	done chan struct{} // closed once the process has exited
	err  error         // how it exited, once done is closed
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startCluster starts n instances at once on a fresh schema (so their
// migrations race, as two releases' would), waits until each is healthy
// and listening, and creates an admin with an API token.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	return startClusterWith(t, n, "")
}

// startClusterWith is startCluster with more parameters for DATABASE_URL
// ("synchronous_commit=off&…"), which pgx passes to the server.
func startClusterWith(t *testing.T, n int, params string) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	base := pgtest.URL(t)
	if base == "" {
		t.Skip("PostgreSQL not reachable: the multi-instance tests skip")
	}
	bin := beaconBinary(t)
	c := &cluster{appName: fmt.Sprintf("beacon_cluster_%d", rand.Uint32())}
	c.url = base + "&application_name=" + c.appName
	if params != "" {
		c.url += "&" + params
	}
	for i := range n {
		port := freePort(t)
		nd := &node{
			name: string(rune('A' + i)),
			base: "http://127.0.0.1:" + port,
			cmd:  exec.Command(bin, "serve"),
			done: make(chan struct{}),
			logs: &syncBuffer{},
		}
		nd.cmd.Env = append(os.Environ(), "PORT="+port, "DATABASE_URL="+c.url, "SECRET_KEY_BASE=cluster-test",
			"METRICS_TOKEN=metrics", "ADMIN_EMAIL=", "ADMIN_PASSWORD=")
		nd.cmd.Stderr = nd.logs
		if err := nd.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			nd.err = nd.cmd.Wait()
			close(nd.done)
		}()
		t.Cleanup(func() {
			nd.cmd.Process.Kill()
			<-nd.done
			if t.Failed() {
				t.Logf("instance %s log:\n%s", nd.name, nd.logs)
			}
		})
		c.nodes = append(c.nodes, nd)
	}
	for _, nd := range c.nodes {
		nd.waitListening(t)
	}
	st, err := store.Open(c.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c.store = st
	for _, nd := range c.nodes {
		nd.app = apptest.Remote(nd.base, st)
	}
	admin := c.nodes[0].app.CreateUser(t, "Ops", "ops@example.com", "a long password", true)
	c.token = c.nodes[0].app.Token(t, admin)
	return c
}

// waitListening waits until the node answers /healthz with its listener
// connected.
func (nd *node) waitListening(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var h struct {
			Listener struct{ Connected bool }
		}
		resp, err := http.Get(nd.base + "/healthz")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK && h.Listener.Connected {
				return
			}
		}
		select {
		case <-nd.done:
			t.Fatalf("instance %s exited: %v\n%s", nd.name, nd.err, nd.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s not listening within 30s\n%s", nd.name, nd.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric reads one value from the node's /metrics, or -1.
func (nd *node) metric(name string) float64 {
	req, _ := http.NewRequest(http.MethodGet, nd.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer metrics")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// post publishes a notification for everyone through the node's API. It
// does not fail the test, so posters may run on their own goroutines.
func (c *cluster) post(nd *node, title string) (int64, error) {
	body, _ := json.Marshal(map[string]string{"title": title, "level": "info"})
	req, _ := http.NewRequest(http.MethodPost, nd.base+"/api/notifications", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("post on %s: %d %s", nd.name, resp.StatusCode, b)
	}
	var n struct{ ID int64 }
	if err := json.Unmarshal(b, &n); err != nil {
		return 0, err
	}
	return n.ID, nil
}

func (c *cluster) mustPost(t *testing.T, nd *node, title string) int64 {
	t.Helper()
	id, err := c.post(nd, title)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// notificationID is the id of a notification event's payload.
func notificationID(t *testing.T, ev apptest.Event) int64 {
	t.Helper()
	var n struct{ ID int64 }
	if err := json.Unmarshal([]byte(ev.Data), &n); err != nil {
		t.Fatalf("event data %q: %v", ev.Data, err)
	}
	return n.ID
}

// collect reads notification events from s until it holds want of them,
// failing the test after timeout; it returns their ids in arrival order.
func collect(t *testing.T, s *apptest.Stream, want int, timeout time.Duration) []int64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var ids []int64
	for len(ids) < want {
		ev := s.NextEvent(t, time.Until(deadline))
		if ev.Event == "notification" {
			ids = append(ids, notificationID(t, ev))
		}
	}
	return ids
}

// checkOnceInOrder fails unless got is want, ascending, each once.
func checkOnceInOrder(t *testing.T, who string, got, want []int64) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("%s received %d notifications, want %d once each in id order:\n got %v\nwant %v", who, len(got), len(want), got, want)
	}
}

// A post through A's API reaches a stream on B and a long poll on C.
func TestClusterPostReachesStreamAndLongPollOnOtherInstances(t *testing.T) {
	c := startCluster(t, 3)
	a, b, cc := c.nodes[0], c.nodes[1], c.nodes[2]
	stream := b.app.Client(t).OpenStream(t, "")
	const after = 0 // a fresh database

	polled := make(chan string, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("%s/api/notifications/poll?after=%d&timeout=30", cc.base, after))
		if err != nil {
			polled <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		polled <- string(body)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for cc.metric("beacon_notification_subscribers") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the long poll on C is not waiting")
		}
		time.Sleep(10 * time.Millisecond)
	}

	posted := time.Now()
	id := c.mustPost(t, a, "across instances")
	ev := stream.NextEvent(t, 10*time.Second)
	for ev.Event != "notification" || notificationID(t, ev) != id {
		ev = stream.NextEvent(t, 10*time.Second)
	}
	select {
	case body := <-polled:
		var got struct {
			Notifications []struct {
				ID    int64
				Title string
			}
			LastID int64 `json:"last_id"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Notifications) != 1 ||
			got.Notifications[0].ID != id || got.LastID != id {
			t.Fatalf("long poll on C answered %s", body)
		}
		// Woken by the NOTIFY, not by the poll's timeout.
		if d := time.Since(posted); d > 10*time.Second {
			t.Fatalf("long poll answered after %v", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the long poll on C did not answer")
	}
}

// chatFrame is a server frame of the chat WebSocket.
type chatFrame struct {
	Type string
	Body string
	User struct{ Name string }
}

// nextChatMessage reads frames until a chat message, skipping history and
// presence.
func nextChatMessage(t *testing.T, conn interface {
	SetReadDeadline(time.Time) error
	ReadJSON(any) error
}, timeout time.Duration) chatFrame {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		var f chatFrame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("read chat frame: %v", err)
		}
		if f.Type == "message" {
			return f
		}
	}
}

// awaitOnline reads frames until a presence frame lists exactly names.
func awaitOnline(t *testing.T, conn *websocket.Conn, names ...string) {
	t.Helper()
	ch := &apptest.Chatter{T: t, Conn: conn}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if f := ch.NextOf("presence"); slices.Equal(f.Online, names) {
			return
		}
	}
	t.Fatalf("presence never listed %v", names)
}

// Users signed in on different instances chat in one room, and each sees
// the other online.
func TestClusterChatAcrossInstances(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	a.app.CreateUser(t, "Ada", "ada@example.com", "correct horse", false)
	b.app.CreateUser(t, "Bob", "bob@example.com", "battery staple", false)
	ada, bob := a.app.Client(t), b.app.Client(t)
	ada.Login(t, "ada@example.com", "correct horse")
	bob.Login(t, "bob@example.com", "battery staple")
	adaWS, bobWS := ada.DialChat(t, "general"), bob.DialChat(t, "general")
	// Both rooms are running, on both instances, once each socket sees
	// both users online: only then is a message sure to arrive live rather
	// than in a history frame.
	awaitOnline(t, adaWS, "Ada", "Bob")
	awaitOnline(t, bobWS, "Ada", "Bob")

	if err := adaWS.WriteJSON(map[string]string{"type": "message", "body": "hello from A"}); err != nil {
		t.Fatal(err)
	}
	if f := nextChatMessage(t, bobWS, 10*time.Second); f.Body != "hello from A" || f.User.Name != "Ada" {
		t.Fatalf("B received %+v", f)
	}
	if err := bobWS.WriteJSON(map[string]string{"type": "message", "body": "hello from B"}); err != nil {
		t.Fatal(err)
	}
	// Ada sees her own message first, then Bob's.
	if f := nextChatMessage(t, adaWS, 10*time.Second); f.Body != "hello from A" {
		t.Fatalf("A received %+v first", f)
	}
	if f := nextChatMessage(t, adaWS, 10*time.Second); f.Body != "hello from B" || f.User.Name != "Bob" {
		t.Fatalf("A received %+v", f)
	}
}

// Marking read on A updates the unread count on B's stream; signing out on
// A ends the user's stream on B.
func TestClusterUnreadCountAndSignOutAcrossInstances(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	a.app.CreateUser(t, "Ada", "ada@example.com", "correct horse", false)
	first := c.mustPost(t, a, "one")
	c.mustPost(t, b, "two")

	onA := a.app.Client(t)
	onA.Login(t, "ada@example.com", "correct horse")
	onB := b.app.Client(t)
	onB.Jar = onA.Jar // the same browser: cookies are per host, not per port
	stream := onB.OpenStream(t, "")
	unread := func() string {
		t.Helper()
		for {
			if ev := stream.NextEvent(t, 10*time.Second); ev.Event == "unread" {
				return ev.Data
			}
		}
	}
	if got := unread(); got != `{"unread":2}` {
		t.Fatalf("unread at start: %s", got)
	}
	if resp, body := onA.PostForm(t, fmt.Sprintf("/notifications/%d/read", first), nil); resp.StatusCode >= 400 {
		t.Fatalf("mark read on A: %d %s", resp.StatusCode, body)
	}
	if got := unread(); got != `{"unread":1}` {
		t.Fatalf("unread on B after mark-read on A: %s", got)
	}

	onA.Logout(t)
	if !stream.Ended(10 * time.Second) {
		t.Fatal("signing out on A did not end the stream on B")
	}
}

// 160 posts from concurrent posters on two instances reach subscribers on
// both, in id order, each once.
func TestClusterRacingPostsArriveInOrderOnce(t *testing.T) {
	c := startCluster(t, 2)
	var streams []*apptest.Stream
	for _, nd := range c.nodes {
		for range 2 {
			streams = append(streams, nd.app.Client(t).OpenStream(t, ""))
		}
	}
	const posters, each = 4, 20 // per instance: 160 in all
	var (
		mu     sync.Mutex
		posted []int64
		failed []error
		wg     sync.WaitGroup
	)
	for _, nd := range c.nodes {
		for p := range posters {
			wg.Go(func() {
				for i := range each {
					id, err := c.post(nd, fmt.Sprintf("%s-%d-%d", nd.name, p, i))
					mu.Lock()
					if err != nil {
						failed = append(failed, err)
					} else {
						posted = append(posted, id)
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d posts failed: %v", len(failed), failed[0])
	}
	for i, s := range streams {
		got := collect(t, s, len(posted), 60*time.Second)
		checkOnceInOrder(t, fmt.Sprintf("stream %d on %s", i, c.nodes[i/2].name), got, posted)
	}
}

// terminateBackends ends every database connection of the cluster's
// instances (the pools and the listeners), as a failover would.
func (c *cluster) terminateBackends(t *testing.T) int {
	t.Helper()
	var n int
	err := c.store.SQL().QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, c.appName).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Every Beacon connection to PostgreSQL is terminated in the middle of a
// stream of posts: everything posted still arrives, once and in order, and
// live delivery resumes.
func TestClusterSurvivesTerminatedConnections(t *testing.T) {
	c := startCluster(t, 2)
	var streams []*apptest.Stream
	for _, nd := range c.nodes {
		streams = append(streams, nd.app.Client(t).OpenStream(t, ""))
	}
	const total = 80
	var (
		mu      sync.Mutex
		posted  []int64
		failed  int
		halfway = make(chan struct{})
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := range total {
			if i == total/2 {
				close(halfway)
			}
			// Failures are expected while the connections are cut.
			id, err := c.post(c.nodes[i%2], fmt.Sprint("post ", i))
			mu.Lock()
			if err != nil {
				failed++
			} else {
				posted = append(posted, id)
			}
			mu.Unlock()
		}
	}()
	<-halfway
	killed := c.terminateBackends(t)
	<-done
	t.Logf("terminated %d connections; %d of %d posts failed meanwhile", killed, failed, total)
	for _, nd := range c.nodes {
		deadline := time.Now().Add(20 * time.Second)
		for nd.metric("beacon_listener_reconnects_total") < 1 || nd.metric("beacon_listener_connected") != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("instance %s's listener did not reconnect", nd.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	last := c.mustPost(t, c.nodes[0], "after the failover")
	posted = append(posted, last)
	// The database is the truth: a post whose answer was lost in the cut
	// may still have committed, and then it must arrive too.
	committed := c.notificationIDs(t)
	for _, id := range posted {
		if !slices.Contains(committed, id) {
			t.Fatalf("post %d was answered 201 but is not in the database", id)
		}
	}
	for i, s := range streams {
		checkOnceInOrder(t, fmt.Sprintf("stream on %s", c.nodes[i].name), collectThrough(t, s, last), committed)
	}
}

// notificationIDs is every notification id in the database, ascending.
func (c *cluster) notificationIDs(t *testing.T) []int64 {
	t.Helper()
	rows, err := c.store.SQL().Query("SELECT id FROM notifications ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// collectThrough reads notification ids from s up to and including last.
func collectThrough(t *testing.T, s *apptest.Stream, last int64) []int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var ids []int64
	for len(ids) == 0 || ids[len(ids)-1] < last {
		if ev := s.NextEvent(t, time.Until(deadline)); ev.Event == "notification" {
			ids = append(ids, notificationID(t, ev))
		}
	}
	return ids
}

// A rolling deploy: SIGTERM on A while posts flow through B; A's clients
// reconnect to B and C with Last-Event-ID and miss nothing, see nothing
// twice; A exits 0 within 10 s.
func TestClusterRollingRestartLosesNothing(t *testing.T) {
	c := startCluster(t, 3)
	a := c.nodes[0]
	const clients, total = 4, 60
	streams := make([]*apptest.Stream, clients)
	for i := range streams {
		streams[i] = a.app.Client(t).OpenStream(t, "")
	}
	var (
		mu      sync.Mutex
		posted  []int64
		postErr error
		started = make(chan struct{})
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := range total {
			id, err := c.post(c.nodes[1], fmt.Sprint("deploy ", i))
			mu.Lock()
			if err != nil && postErr == nil {
				postErr = err
			}
			posted = append(posted, id)
			mu.Unlock()
			if i == total/3 {
				close(started)
			}
		}
	}()
	<-started
	sigterm := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	got := make([][]int64, clients)
	for i, s := range streams {
		for {
			ev, ok := s.Next(t, 15*time.Second)
			if !ok {
				break
			}
			if ev.Event == "notification" {
				got[i] = append(got[i], notificationID(t, ev))
			}
		}
		lastID := ""
		if n := len(got[i]); n > 0 {
			lastID = strconv.FormatInt(got[i][n-1], 10)
		} else {
			t.Fatalf("client %d saw nothing on A before it stopped", i)
		}
		t.Logf("client %d: %d notifications from A before it stopped", i, len(got[i]))
		// Half go to B, half to C, as a load balancer would spread them.
		to := c.nodes[1+i%2]
		streams[i] = to.app.Client(t).OpenStream(t, lastID)
	}
	select {
	case <-a.done:
		if a.err != nil {
			t.Fatalf("A exited with %v", a.err)
		}
		if d := time.Since(sigterm); d > 10*time.Second {
			t.Fatalf("A took %v to exit", d)
		}
	case <-time.After(10*time.Second - time.Since(sigterm)):
		t.Fatal("A did not exit within 10s of SIGTERM")
	}
	<-done
	if postErr != nil {
		t.Fatal(postErr)
	}
	last := posted[len(posted)-1]
	for i, s := range streams {
		got[i] = append(got[i], collectThrough(t, s, last)...)
		checkOnceInOrder(t, fmt.Sprintf("client %d", i), got[i], posted)
	}
}
