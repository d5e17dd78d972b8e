package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/models"
	"beacon/app/store"
)

// These tests run `beacon subscribe`, the built binary, against `beacon
// serve`, the same binary, on a SQLite file.

// beacon is the binary these tests run.
var beacon apptest.Binary

func TestMain(m *testing.M) {
	code := m.Run()
	beacon.Remove()
	os.Exit(code)
}

// beaconBinary is the built binary; -short skips the tests that need it.
func beaconBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	return beacon.Path(t)
}

// process is a subprocess of the built binary.
type process struct {
	name     string
	cmd      *exec.Cmd
	out, log *apptest.LogBuffer // its stdout and stderr
	done     chan struct{}      // closed once it has exited
}

// start runs the binary with args, env added to the test's environment
// (which the test's own BEACON_TOKEN does not reach). It is killed when
// the test ends, and its output shown if the test failed.
func start(t *testing.T, name string, env []string, args ...string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(beaconBinary(t), args...),
		out: &apptest.LogBuffer{}, log: &apptest.LogBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "BEACON_TOKEN=", "LOG_LEVEL=info")
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s: stdout:\n%s\nstderr:\n%s", p.name, p.out, p.log)
		}
	})
	return p
}

// waitFor polls cond until it holds, failing the test after timeout.
func (p *process) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s within %v", p.name, what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exit waits for the process to end and returns its exit status.
func (p *process) exit(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("%s still runs after %v", p.name, timeout)
		return -1
	}
}

// stop sends SIGTERM (or SIGINT) and returns the exit status.
func (p *process) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return p.exit(t, 15*time.Second)
}

// serveBeacon starts `beacon serve` on port with the SQLite file db, an
// admin ops@example.com, and waits until it answers /healthz.
func serveBeacon(t *testing.T, port, db string) *process {
	t.Helper()
	p := start(t, "serve", []string{"PORT=" + port, "DATABASE_URL=" + db, "SECRET_KEY_BASE=test",
		"ADMIN_EMAIL=ops@example.com", "ADMIN_PASSWORD=a long password", "LOG_LEVEL=warn"}, "serve")
	p.waitFor(t, "healthy /healthz", 30*time.Second, func() bool {
		select {
		case <-p.done:
			t.Fatalf("serve exited:\n%s", p.log)
		default:
		}
		resp, err := http.Get("http://127.0.0.1:" + port + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

// event is one line of `beacon subscribe --json`.
type event struct {
	Event string
	ID    string
	Data  struct {
		ID     int64
		Title  string
		Body   string
		Unread *int64
	}
}

// events parses what a subscriber printed so far, failing the test on a
// line that is not an event.
func events(t *testing.T, p *process) []event {
	t.Helper()
	var evs []event
	for _, line := range strings.Split(strings.TrimSuffix(p.out.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Event == "" {
			t.Fatalf("%s printed %q: %v", p.name, line, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// has reports whether evs holds an event of this type for notification id.
func has(evs []event, typ string, id int64) bool {
	return slices.ContainsFunc(evs, func(ev event) bool { return ev.Event == typ && ev.Data.ID == id })
}

// personalToken signs in as email and makes a personal read token on
// /settings, as a person would; it returns the token and its id.
func personalToken(t *testing.T, app *apptest.App, email, password string) (*apptest.Client, string, string) {
	t.Helper()
	c := app.Client(t)
	c.Login(t, email, password)
	resp, page := c.PostForm(t, "/settings/tokens", url.Values{"name": {"terminal"}})
	token := regexp.MustCompile(`<code class="new-token">(bcr_[A-Za-z0-9]+)</code>`).FindStringSubmatch(page)
	id := regexp.MustCompile(`/settings/tokens/(\d+)/revoke`).FindStringSubmatch(page)
	if resp.StatusCode != http.StatusCreated || token == nil || id == nil {
		t.Fatalf("make a personal token: %d\n%s", resp.StatusCode, page)
	}
	return c, token[1], id[1]
}

// `beacon subscribe` follows a real Beacon: JSON lines and --exec for a
// personal token, text for an admin's token; across a restart of the
// server it gets what was posted meanwhile, once, and nothing twice; a
// revoked token ends it with an error; SIGINT ends it with 0.
func TestSubscribeFollowsABeaconAcrossARestart(t *testing.T) {
	bin := beaconBinary(t)
	db, port := filepath.Join(t.TempDir(), "beacon.db"), freeTCPPort(t)
	base := "http://127.0.0.1:" + port
	srv := serveBeacon(t, port, db)
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := apptest.Remote(base, st)
	adminToken := cliOutput(t, bin, []string{"DATABASE_URL=" + db}, "token", "create", "ops@example.com")
	app.CreateUser(t, "Ada", "ada@example.com", "correct horse", false)
	ada, readToken, tokenID := personalToken(t, app, "ada@example.com", "correct horse")

	hooks := filepath.Join(t.TempDir(), "hooks.txt")
	hook := `printf '%s|%s|%s|%s|%s|%s\n' "$BEACON_EVENT" "$BEACON_ID" "$BEACON_LEVEL" "$BEACON_TITLE" "$BEACON_BODY" "$BEACON_URL" >> ` + hooks +
		`; [ "$BEACON_TITLE" != fails ]`
	js := start(t, "subscribe --json", []string{"BEACON_TOKEN=" + readToken}, "subscribe", "--exec", hook, base)
	text := start(t, "subscribe --format text", nil, "subscribe", base, "--format", "text", "--token", adminToken)
	// A signed-in stream's first event is the unread count; the text one
	// prints nothing before a notification, so its log says when.
	js.waitFor(t, "unread event", 10*time.Second, func() bool { return strings.Contains(js.out.String(), `"event":"unread"`) })
	text.waitFor(t, "connection", 10*time.Second, func() bool { return strings.Contains(text.log.String(), "subscribe: connected") })

	n1 := app.Notify(t, adminToken, map[string]string{"title": "Disk full", "body": "host-3 is 95% full", "level": "warning", "url": "https://ops.example.com/host-3"})
	n2 := app.Notify(t, adminToken, map[string]string{"title": "fails", "level": "info"})
	// Edited once both had it: a stream that had not been sent a
	// notification yet gets it once, in its latest state, not as itself
	// and then an update.
	js.waitFor(t, "the first notification", 10*time.Second, func() bool { return has(events(t, js), "notification", n1) })
	text.waitFor(t, "the first notification", 10*time.Second, func() bool { return strings.Contains(text.out.String(), "Disk full") })
	if resp, body := app.CallAPI(t, http.MethodPatch, fmt.Sprint("/api/notifications/", n1), adminToken, `{"body":"host-3 is 99% full"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("edit: %d %s", resp.StatusCode, body)
	}
	n3 := app.Notify(t, adminToken, map[string]string{"title": "Deploy", "level": "success"})
	// Withdrawn once it was had, too: one posted and withdrawn before the
	// hub looks is news to nobody, and a stream is sent nothing of it.
	js.waitFor(t, "the notification to withdraw", 10*time.Second, func() bool { return has(events(t, js), "notification", n3) })
	if resp, body := app.CallAPI(t, http.MethodDelete, fmt.Sprint("/api/notifications/", n3), adminToken, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("withdraw: %d %s", resp.StatusCode, body)
	}
	js.waitFor(t, "withdraw event", 10*time.Second, func() bool { return has(events(t, js), "withdraw", n3) })
	evs := events(t, js)
	if !has(evs, "notification", n1) || !has(evs, "notification", n2) || !has(evs, "update", n1) || !has(evs, "notification", n3) {
		t.Fatalf("events before the restart: %+v", evs)
	}
	if i := slices.IndexFunc(evs, func(ev event) bool { return ev.Event == "update" }); evs[i].Data.Body != "host-3 is 99% full" || evs[i].ID == "" {
		t.Fatalf("the update: %+v", evs[i])
	}

	// The server stops; two are posted while it is down (straight into its
	// database), one after it is back. Each arrives once.
	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	var down []int64
	for _, title := range []string{"while down 1", "while down 2"} {
		n := models.Notification{Title: title, Level: "info"}
		if _, err := st.CreateOrReplaceNotification(t.Context(), &n); err != nil {
			t.Fatal(err)
		}
		down = append(down, n.ID)
	}
	serveBeacon(t, port, db)
	n6 := app.Notify(t, adminToken, map[string]string{"title": "after the restart", "level": "error"})
	js.waitFor(t, "notification posted after the restart", 15*time.Second, func() bool { return has(events(t, js), "notification", n6) })

	evs = events(t, js)
	var got []int64
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.Event == "notification" {
			got = append(got, ev.Data.ID)
		}
		if ev.ID != "" && seen[ev.ID] {
			t.Errorf("event id %s came twice", ev.ID)
		}
		seen[ev.ID] = true
	}
	if want := []int64{n1, n2, n3, down[0], down[1], n6}; !slices.Equal(got, want) {
		t.Fatalf("notifications received %v, want %v once each, in order", got, want)
	}
	if !strings.Contains(js.log.String(), "reconnecting") {
		t.Errorf("no reconnection logged:\n%s", js.log)
	}

	// --exec ran once per notification and update, in order, with the
	// fields; the failing one was logged and changed nothing after it.
	wantHooks := strings.Join([]string{
		fmt.Sprintf("notification|%d|warning|Disk full|host-3 is 95%% full|https://ops.example.com/host-3", n1),
		fmt.Sprintf("notification|%d|info|fails||", n2),
		fmt.Sprintf("update|%d|warning|Disk full|host-3 is 99%% full|https://ops.example.com/host-3", n1),
		fmt.Sprintf("notification|%d|success|Deploy||", n3),
		fmt.Sprintf("notification|%d|info|while down 1||", down[0]),
		fmt.Sprintf("notification|%d|info|while down 2||", down[1]),
		fmt.Sprintf("notification|%d|error|after the restart||", n6),
	}, "\n") + "\n"
	js.waitFor(t, "seventh --exec run", 10*time.Second, func() bool {
		b, _ := os.ReadFile(hooks)
		return strings.Count(string(b), "\n") >= 7
	})
	if b, _ := os.ReadFile(hooks); string(b) != wantHooks {
		t.Fatalf("--exec wrote:\n%s\nwant:\n%s", b, wantHooks)
	}
	if !strings.Contains(js.log.String(), "the --exec command failed") {
		t.Errorf("the failing --exec is not logged:\n%s", js.log)
	}

	text.waitFor(t, "text line after the restart", 10*time.Second, func() bool { return strings.Contains(text.out.String(), "after the restart") })
	wantText := strings.Join([]string{
		"[warning] Disk full — host-3 is 95% full",
		"[info] fails",
		"[warning] Disk full — host-3 is 99% full (updated)",
		"[success] Deploy",
		fmt.Sprintf("(withdrawn %d)", n3),
		"[info] while down 1",
		"[info] while down 2",
		"[error] after the restart",
	}, "\n") + "\n"
	if text.out.String() != wantText {
		t.Fatalf("--format text printed:\n%s\nwant:\n%s", text.out, wantText)
	}
	if code := text.stop(t, os.Interrupt); code != 0 {
		t.Fatalf("SIGINT: exit %d, want 0", code)
	}

	// --last-event-id resumes from a position printed before.
	resumed := start(t, "subscribe --last-event-id", nil, "subscribe", "--token", adminToken, "--last-event-id", fmt.Sprint(n3), base)
	resumed.waitFor(t, "replay", 10*time.Second, func() bool { return has(events(t, resumed), "notification", n6) })
	if evs := events(t, resumed); has(evs, "notification", n1) || !has(evs, "withdraw", n3) || !has(evs, "notification", down[0]) {
		t.Fatalf("resumed after %d: %+v", n3, evs)
	}
	if code := resumed.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit %d, want 0", code)
	}

	// Revoked, the token's stream ends; the reconnection is refused, and
	// subscribe stops with an error that says so (and not the token).
	if resp, _ := ada.PostForm(t, "/settings/tokens/"+tokenID+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if code := js.exit(t, 15*time.Second); code != 1 {
		t.Fatalf("after the revocation: exit %d, want 1", code)
	}
	if !strings.Contains(js.log.String(), "the token was refused (401") {
		t.Fatalf("the refusal does not say the token was refused:\n%s", js.log)
	}
	unknown := start(t, "subscribe, an unknown token", []string{"BEACON_TOKEN=bcr_unknown0123456789"}, "subscribe", base)
	if code := unknown.exit(t, 10*time.Second); code != 1 || !strings.Contains(unknown.log.String(), "the token was refused") {
		t.Fatalf("an unknown token: exit %d\n%s", code, unknown.log)
	}
	for _, p := range []*process{js, text, resumed, unknown} {
		for _, secret := range []string{readToken, adminToken, "bcr_unknown0123456789"} {
			if strings.Contains(p.out.String()+p.log.String(), secret) {
				t.Errorf("%s printed a token", p.name)
			}
		}
	}
}

// Plain http to another machine is refused at once, before anything is
// sent (--insecure would allow it: TestStreamURL).
func TestSubscribeRefusesPlainHTTPToAnotherHost(t *testing.T) {
	p := start(t, "subscribe http://", []string{"BEACON_TOKEN=bcr_secret0123456789"}, "subscribe", "http://beacon.example.com")
	if code := p.exit(t, 10*time.Second); code != 1 || !strings.Contains(p.log.String(), "--insecure") {
		t.Fatalf("exit %d, want 1 with a message naming --insecure:\n%s", code, p.log)
	}
	if strings.Contains(p.log.String(), "bcr_secret") {
		t.Fatal("the refusal printed the token")
	}
}

// cliOutput runs a beacon command and returns its standard output, trimmed.
func cliOutput(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("beacon %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

func freeTCPPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}
