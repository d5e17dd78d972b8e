package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// csrfInput finds the sign-in form's hidden _csrf field.
var csrfInput = regexp.MustCompile(`<input[^>]*name="_csrf"[^>]*value="([^"]*)"`)

// login signs in as a browser does (GET the form for its _csrf token, POST
// it back with the session cookie) and returns the cookies of the session.
func login(ctx context.Context, base *url.URL, email, password string, timeout time.Duration) (http.CookieJar, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{
		Transport:     http.DefaultTransport.(*http.Transport).Clone(),
		Jar:           jar,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	get := func() (*http.Response, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+"/login", nil)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("User-Agent", userAgent)
		resp, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp, body, err
	}
	resp, page, err := get()
	if err != nil {
		return nil, fmt.Errorf("bench: sign-in form: %w", err)
	}
	m := csrfInput.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		return nil, fmt.Errorf("bench: sign-in form: %s, with no _csrf field", resp.Status)
	}
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {html.UnescapeString(string(m[1]))}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.String()+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin(base))
	req.Header.Set("User-Agent", userAgent)
	resp, err = client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench: sign in: %w", err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusSeeOther, http.StatusFound:
		return jar, nil
	case http.StatusUnprocessableEntity:
		return nil, fmt.Errorf("bench: sign in as %s: wrong email or password", email)
	case http.StatusTooManyRequests:
		return nil, fmt.Errorf("bench: sign in as %s: too many failed attempts, wait (Retry-After: %s s)", email, resp.Header.Get("Retry-After"))
	}
	return nil, fmt.Errorf("bench: sign in as %s: %s", email, resp.Status)
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// chatDialer opens chat sockets with small buffers: a receiver only reads,
// so its write buffer comes from a shared pool.
func (r *run) chatDialer() *websocket.Dialer {
	return &websocket.Dialer{
		Jar:              r.jar,
		HandshakeTimeout: r.opts.ConnectTimeout,
		ReadBufferSize:   2048,
		WriteBufferSize:  1024,
		WriteBufferPool:  &sync.Pool{},
	}
}

func (r *run) chatURL() string {
	scheme := "ws"
	if r.target.Scheme == "https" {
		scheme = "wss"
	}
	return scheme + "://" + r.target.Host + r.target.Path + "/chat/" + url.PathEscape(r.opts.Room) + "/ws"
}

// dialChat opens the room's socket and returns once the history frame came:
// the hub sends it as it adds the client to the room, so every message
// stored from then on is owed to this client.
func (r *run) dialChat(ctx context.Context, d *websocket.Dialer) (*websocket.Conn, error) {
	hdr := http.Header{"Origin": {origin(r.target)}, "User-Agent": {userAgent}}
	conn, resp, err := d.DialContext(ctx, r.chatURL(), hdr)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (%s)", err, resp.Status)
		}
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(r.opts.ConnectTimeout))
	var buf []byte
	for {
		buf, err = readFrame(conn, buf[:0])
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("chat history frame: %w", err)
		}
		if frameType(buf, typeHistory) {
			break
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, nil
}

// readChat records every message the socket delivers until it ends.
func (r *run) readChat(t *track, rc *receiver, conn *websocket.Conn) {
	buf := make([]byte, 0, 2048)
	for {
		var err error
		buf, err = readFrame(conn, buf[:0])
		if err != nil {
			if !r.stopping.Load() {
				t.disconnects.Add(1)
			}
			return
		}
		switch {
		case rc != nil && frameType(buf, typeMessage):
			t.deliver(rc, buf, time.Now())
		case frameType(buf, typeError):
			t.refused.Add(1)
			t.errs.add("chat refused a message: " + string(buf))
		}
	}
}

// readFrame reads one message into buf, reusing it: a receiver costs no
// allocation per message.
func readFrame(conn *websocket.Conn, buf []byte) ([]byte, error) {
	_, rd, err := conn.NextReader()
	if err != nil {
		return buf, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// frameType reports whether a chat frame is {"type":kind,…}: the server
// writes the type first.
func frameType(frame, kind []byte) bool {
	return bytes.Contains(frame[:min(len(frame), 32)], kind)
}

var (
	typeHistory = []byte(`"type":"history"`)
	typeMessage = []byte(`"type":"message"`)
	typeError   = []byte(`"type":"error"`)
)
