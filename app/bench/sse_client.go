package bench

import (
	"bufio"
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

// sseStream is an open notification stream: its connection and its parser.
type sseStream struct {
	conn net.Conn
	sr   *sseReader
	// br is what sr reads when the body is the connection's bytes as they
	// come (no chunked encoding, no TLS), as Beacon sends it: such a
	// stream can be handed to the poller. Otherwise nil.
	br *bufio.Reader
}

// dialSSE opens the notification stream and returns once the server has
// sent its first frame (the retry: line, written after the subscription is
// taken), so everything published from then on is owed to this client.
func (r *run) dialSSE(ctx context.Context) (*sseStream, error) {
	d := net.Dialer{Timeout: r.opts.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", hostPort(r.target))
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(r.opts.ConnectTimeout))
	if r.target.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: r.target.Hostname(), NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	fail := func(err error) (*sseStream, error) {
		conn.Close()
		return nil, err
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
	s := &sseStream{conn: conn}
	if _, isTLS := conn.(*tls.Conn); !isTLS && len(resp.TransferEncoding) == 0 && resp.ContentLength < 0 {
		// The body runs until the connection closes: its bytes are br's.
		// 8 KiB: a coalesced write at 100 notifications/s (about 2.7 KB)
		// is one read, where 2 KiB took two or three, and the load
		// client's reads were the limit of scenario B. It costs the client
		// 80 MiB at 10,000 streams, and the server nothing.
		s.br = br
		s.sr = newSSEReader(br, 8192)
	} else {
		s.sr = newSSEReader(resp.Body, 2048)
	}
	if _, err := s.sr.Next(); err != nil {
		return fail(fmt.Errorf("stream's first frame: %w", err))
	}
	_ = conn.SetDeadline(time.Time{})
	return s, nil
}

func newBufReader(conn net.Conn) *bufio.Reader { return bufio.NewReaderSize(conn, 4096) }

// follow reads s until it ends or the run stops, calling handle with
// every frame: on the run's poller when it has one and s can go there,
// otherwise on the calling goroutine. An end before the run stops counts
// as one of t's disconnects.
func (r *run) follow(s *sseStream, t *track, handle func(sseFrame)) {
	if r.poller != nil && s.br != nil {
		buffered, _ := s.br.Peek(s.br.Buffered())
		taken, err := r.poller.add(s.conn, s.sr, bytes.Clone(buffered), handle)
		if taken {
			if err == nil {
				t.polled.Add(1)
			} else if !r.stopping.Load() {
				t.disconnects.Add(1)
			}
			return
		}
	}
	for {
		f, err := s.sr.Next()
		if err != nil {
			if !r.stopping.Load() {
				t.disconnects.Add(1)
			}
			return
		}
		handle(f)
	}
}

// deliveries records every notification a stream delivers.
func (r *run) deliveries(t *track, rc *receiver) func(sseFrame) {
	return func(f sseFrame) {
		if f.Dispatch && bytes.Equal(f.Type, notification) {
			t.deliver(rc, f.Data, f.At)
		}
	}
}
