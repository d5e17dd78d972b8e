package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"net"
	"net/http"
	"time"
)

// The SSE client is a bare TCP (or TLS) connection with one goroutine,
// one read buffer and one parse buffer: 10,000 of them must fit, with the
// server, on two cores.

// dialSSE opens the notification stream and returns once the server has
// sent its first frame (the retry: line, written after the subscription is
// taken), so everything published from then on is owed to this client.
func (r *run) dialSSE(ctx context.Context) (net.Conn, *sseReader, error) {
	d := net.Dialer{Timeout: r.opts.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", hostPort(r.target))
	if err != nil {
		return nil, nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(r.opts.ConnectTimeout))
	if r.target.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: r.target.Hostname(), NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, nil, err
		}
		conn = tc
	}
	fail := func(err error) (net.Conn, *sseReader, error) {
		conn.Close()
		return nil, nil, err
	}
	path := "/notifications/stream"
	if r.opts.Fields != "all" {
		path += "?fields=" + r.opts.Fields
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.target.String()+path, nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("User-Agent", userAgent)
	if r.resumeFrom != "" {
		req.Header.Set("Last-Event-ID", r.resumeFrom)
	}
	if err := req.Write(conn); err != nil {
		return fail(err)
	}
	br := newBufReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("stream answered %s", resp.Status))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return fail(fmt.Errorf("stream answered Content-Type %q", resp.Header.Get("Content-Type")))
	}
	sr := newSSEReader(resp.Body, 2048)
	if _, err := sr.Next(); err != nil {
		return fail(fmt.Errorf("stream's first frame: %w", err))
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, sr, nil
}

// readSSE records every notification the stream delivers until it ends.
func (r *run) readSSE(t *track, rc *receiver, sr *sseReader) {
	for {
		f, err := sr.Next()
		if err != nil {
			if !r.stopping.Load() {
				t.disconnects.Add(1)
			}
			return
		}
		if f.Dispatch && bytes.Equal(f.Type, notification) {
			t.deliver(rc, f.Data, time.Now())
		}
	}
}
