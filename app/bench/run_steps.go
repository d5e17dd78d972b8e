package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// connect opens every client, ConnectConcurrency at a time, and returns
// when each has connected or failed. A client that connected keeps its
// goroutine, reading, until stop.
func (r *run) connect(ctx context.Context) error {
	sem := make(chan struct{}, r.opts.ConnectConcurrency)
	var tried sync.WaitGroup
	// dial returns the client's read loop, or nil when it failed; the
	// goroutine that connected it becomes its reader.
	attempt := func(dial func() (read func())) {
		tried.Add(1)
		r.readers.Go(func() {
			sem <- struct{}{}
			read := dial()
			<-sem
			tried.Done()
			if read != nil {
				read()
			}
		})
	}
	if r.chat != nil {
		// Senders first, so that a refused sign-in shows before thousands
		// of receivers try.
		d := r.chatDialer()
		d.WriteBufferPool = nil
		for range r.opts.ChatSenders {
			conn, err := r.dialChat(ctx, d)
			if err != nil {
				return fmt.Errorf("bench: open a chat sender: %w", err)
			}
			if !r.hold(conn) {
				return ctx.Err()
			}
			r.senders = append(r.senders, &chatSender{conn: conn})
			r.readers.Go(func() { r.readChat(r.chat, nil, conn) })
		}
		d = r.chatDialer()
		for range r.opts.ChatClients {
			attempt(func() func() {
				conn, err := r.dialChat(ctx, d)
				if err != nil {
					r.chat.connectFailed(err)
					return nil
				}
				if !r.hold(conn) {
					return nil
				}
				rc := r.chat.newReceiver()
				return func() { r.readChat(r.chat, rc, conn) }
			})
		}
	}
	if r.sse != nil {
		for range r.opts.SSEClients {
			attempt(func() func() {
				s, err := r.dialSSE(ctx)
				if err != nil {
					r.sse.connectFailed(err)
					return nil
				}
				if !r.hold(s.conn) {
					return nil
				}
				rc := r.sse.newReceiver()
				return func() { r.follow(s, r.sse, r.deliveries(r.sse, rc)) }
			})
		}
	}
	tried.Wait()
	return nil
}

// hold registers conn to be closed at stop; after stop it closes conn at
// once and reports false.
func (r *run) hold(c io.Closer) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping.Load() {
		c.Close()
		return false
	}
	r.conns = append(r.conns, c)
	return true
}

// stop closes every connection and waits for the readers to end.
func (r *run) stop() {
	r.mu.Lock()
	r.stopping.Store(true)
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	r.readers.Wait()
}

// publish sends every item on schedule, notifications and chat messages
// side by side, until Duration has passed when it is set. With Batch, a
// call carries Batch notifications and is scheduled as its first is.
func (r *run) publish(ctx context.Context, start time.Time) {
	var until time.Time
	if r.opts.Duration > 0 {
		until = start.Add(r.opts.Duration)
	}
	var wg sync.WaitGroup
	if r.sse != nil {
		api := newAPIPublisher(r)
		defer api.client.CloseIdleConnections()
		wg.Go(func() {
			if k := r.opts.Batch; k > 1 {
				calls := (r.opts.Messages + k - 1) / k
				schedule(ctx, calls, r.opts.Rate/float64(k), start, until, r.opts.Publishers, func(_, call int, at time.Time) {
					seq := call * k
					api.publishBatch(ctx, r.sse, call, seq, min(k, r.opts.Messages-seq), at)
				})
				return
			}
			schedule(ctx, r.opts.Messages, r.opts.Rate, start, until, r.opts.Publishers, func(_, seq int, at time.Time) {
				api.publish(ctx, r.sse, seq, at)
			})
		})
	}
	if r.chat != nil {
		wg.Go(func() {
			schedule(ctx, r.opts.Messages, r.opts.Rate, start, until, len(r.senders), func(w, seq int, at time.Time) {
				r.senders[w].publish(r.chat, seq, at, r.opts.ConnectTimeout)
			})
		})
	}
	wg.Wait()
}

// await waits until every connected client has every published item, or
// hold has passed.
func (r *run) await(ctx context.Context, hold time.Duration) {
	deadline := time.NewTimer(hold)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if r.sse.complete() && r.chat.complete() {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
	}
}

// complete reports whether every receiver has had every published item.
func (t *track) complete() bool {
	if t == nil {
		return true
	}
	t.mu.Lock()
	want := 0
	for _, ok := range t.published {
		if ok {
			want++
		}
	}
	want *= len(t.receivers)
	t.mu.Unlock()
	return t.unique.Load() >= int64(want)
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
