package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"beacon/app/apptest"
)

// The deploy contract, on the real binary: $PORT, migrations at start, the
// admin from the environment, and on SIGTERM open streams end and the
// process exits 0 within 10 seconds.
func TestServeShutsDownCleanlyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	b := startBinary(t, true)
	cmd, base := b.cmd, b.base

	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	// Two open streams and a long poll: shutdown must end all of them.
	var streams []io.ReadCloser
	for range 2 {
		resp, err := http.Get(base + "/notifications/stream")
		if err != nil {
			t.Fatal(err)
		}
		// Read the first frame so the stream is surely being served.
		if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, resp.Body)
	}
	polled := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/api/notifications/poll?after=999&timeout=55")
		if err != nil {
			polled <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		polled <- fmt.Sprint(resp.StatusCode, " ", strings.TrimSpace(string(b)))
	}()
	waitForLog := time.Now().Add(5 * time.Second)
	for !pollWaiting(base) && time.Now().Before(waitForLog) {
		time.Sleep(10 * time.Millisecond)
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, len(streams))
	for _, b := range streams {
		go func() {
			_, err := io.Copy(io.Discard, b)
			ended <- err
		}()
	}
	for range streams {
		select {
		case err := <-ended:
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Logf("stream ended with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a stream outlived shutdown by 10s")
		}
	}
	select {
	case got := <-polled:
		if got != `200 {"notifications":[],"last_id":999}` {
			t.Fatalf("long poll at shutdown answered %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the long poll outlived shutdown by 10s")
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit within 10s of SIGTERM")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	t.Logf("shutdown took %v", time.Since(start))
}

// pollWaiting reports whether the server counts three subscribers: two
// streams and the long poll.
func pollWaiting(base string) bool {
	resp, err := getMetrics(base)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.Contains(string(b), "beacon_notification_subscribers 3")
}

// metricsToken is the METRICS_TOKEN of the binaries startBinary starts.
const metricsToken = "test-metrics"

// getMetrics fetches base's /metrics with its token.
func getMetrics(base string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	return http.DefaultClient.Do(req)
}

// binary is a built beacon serving on a fresh SQLite file.
type binary struct {
	path, base string
	env        []string
	cmd        *exec.Cmd
}

// startBinary builds beacon, starts `beacon serve` with an admin
// ops@example.com, and waits until it answers /healthz. With logs set, its
// log lines go to the test log. extra is added to its environment.
func startBinary(t *testing.T, logs bool, extra ...string) *binary {
	t.Helper()
	dir := t.TempDir()
	b := &binary{path: filepath.Join(dir, "beacon")}
	if out, err := exec.Command("go", "build", "-o", b.path, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := freePort(t)
	b.base = "http://127.0.0.1:" + port
	b.env = append(os.Environ(), "PORT="+port, "DATABASE_URL="+filepath.Join(dir, "beacon.db"),
		"ADMIN_EMAIL=ops@example.com", "ADMIN_PASSWORD=a long password", "SECRET_KEY_BASE=test",
		"METRICS_TOKEN="+metricsToken)
	b.env = append(b.env, extra...)
	b.cmd = exec.Command(b.path)
	b.cmd.Env = b.env
	if logs {
		stderr, err := b.cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				t.Log(sc.Text())
			}
		}()
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.cmd.Process.Kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(b.base + "/healthz"); err == nil {
			resp.Body.Close()
			return b
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// LOG_FORMAT=json makes every log line one JSON object, and LOG_LEVEL=warn
// leaves out the info lines; a setting Beacon does not know stops it at
// once with a message that names it.
func TestLogSettingsOfTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "beacon")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// serve runs beacon until it answers /healthz, then stops it with
	// SIGTERM, and returns what it logged.
	serve := func(env ...string) (string, error) {
		port := freePort(t)
		var logs apptest.LogBuffer
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), append([]string{"PORT=" + port, "DATABASE_URL=" + filepath.Join(dir, "beacon.db"),
			"ADMIN_EMAIL=", "ADMIN_PASSWORD=", "SECRET_KEY_BASE="}, env...)...)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.Now().Add(30 * time.Second)
		for {
			select {
			case err := <-done:
				return logs.String(), fmt.Errorf("exited before answering: %v", err)
			default:
			}
			if resp, err := http.Get("http://127.0.0.1:" + port + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("not answering within 30s:\n%s", logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		err := <-done
		return logs.String(), err
	}
	out, err := serve("LOG_FORMAT=json")
	if err != nil || !strings.Contains(out, "beacon listening") {
		t.Fatalf("LOG_FORMAT=json: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Level == "" || m.Msg == "" {
			t.Fatalf("LOG_FORMAT=json wrote a line that is not a JSON log record: %q", line)
		}
	}
	out, err = serve("LOG_LEVEL=warn")
	if err != nil || strings.Contains(out, "level=INFO") || !strings.Contains(out, "level=WARN") {
		t.Fatalf("LOG_LEVEL=warn: %v, wrote\n%s", err, out)
	}
	for _, bad := range []string{"LOG_LEVEL=loud", "LOG_FORMAT=xml"} {
		out, err := serve(bad)
		name, _, _ := strings.Cut(bad, "=")
		if err == nil || !strings.Contains(out, name) {
			t.Fatalf("%s: %v\n%s", bad, err, out)
		}
	}
}

// A client trickling a request body does not hold up SIGTERM: its read is
// cut at once (408, connection closed), and the process exits 0 promptly
// instead of waiting out the shutdown grace period.
func TestSIGTERMWithATricklingClient(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	b := startBinary(t, true)
	addr := strings.TrimPrefix(b.base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Expect: 100-continue makes the server say when a handler starts
	// reading the body: then the request is surely in flight.
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 1000\r\nExpect: 100-continue\r\n\r\n", addr)
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
			time.Sleep(300 * time.Millisecond) // the trickle itself
		}
	}()

	start := time.Now()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- b.cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit within 10s of SIGTERM")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("exit took %v with a trickling client: it waited for it", d)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("the trickling client got %v %v, want 408", resp, err)
	}
	t.Logf("exited %v after SIGTERM", time.Since(start))
}
