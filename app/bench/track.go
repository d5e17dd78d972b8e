package bench

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A published item carries a marker, in a notification's title or a chat
// message's body:
//
//	bench:RUN:SEQ:SCHEDULED:SENT
//
// RUN tells this run's items from any other's; SCHEDULED and SENT are Unix
// nanoseconds: when the item was meant to go out, and when it did. A
// receiver needs nothing else to measure its latency.
func marker(run string, seq int, scheduled, sent time.Time) string {
	b := make([]byte, 0, 64)
	b = append(b, "bench:"...)
	b = append(b, run...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, scheduled.UnixNano(), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, sent.UnixNano(), 10)
	return string(b)
}

// parseMarker finds the marker with prefix ("bench:RUN:") in data.
func parseMarker(data, prefix []byte) (seq int, scheduled, sent int64, ok bool) {
	i := bytes.Index(data, prefix)
	if i < 0 {
		return 0, 0, 0, false
	}
	rest := data[i+len(prefix):]
	var n [3]int64
	for k := range n {
		v, j := leadingNumber(rest)
		if j == 0 || (k < 2 && (j == len(rest) || rest[j] != ':')) {
			return 0, 0, 0, false
		}
		n[k] = v
		rest = rest[min(j+1, len(rest)):]
	}
	return int(n[0]), n[1], n[2], true
}

// leadingNumber parses the decimal digits b starts with and says how many
// there were. The value is kept in a local: accumulated in the caller's
// array, the three numbers of a marker cost the load client a sixth of its
// CPU in scenario B (a store and a reload per digit).
func leadingNumber(b []byte) (int64, int) {
	var v int64
	j := 0
	for ; j < len(b); j++ {
		c := b[j] - '0'
		if c > 9 {
			break
		}
		v = v*10 + int64(c)
	}
	return v, j
}

// track is one kind of client (SSE or chat) and what its publisher sent:
// what every receiver records into, without a lock.
type track struct {
	run      string
	prefix   []byte // "bench:RUN:"
	messages int

	fromSend     histogram
	fromSchedule histogram
	publish      histogram
	unique       atomic.Int64
	duplicates   atomic.Int64
	lastAt       atomic.Int64 // Unix nanoseconds of the last delivery
	disconnects  atomic.Int64
	polled       atomic.Int64 // streams handed to the poller
	connectFails atomic.Int64
	publishFails atomic.Int64
	refused      atomic.Int64 // chat messages the server answered with an error frame

	mu        sync.Mutex
	published []bool // by seq: the publish call succeeded
	errs      errorSample
	receivers []*receiver
}

func newTrack(run string, messages int) *track {
	return &track{run: run, prefix: []byte("bench:" + run + ":"), messages: messages, published: make([]bool, messages)}
}

// receiver is one connected client's view: which items it has seen. Only
// its own goroutine writes it until the run ends.
type receiver struct {
	seen []uint64
}

func (t *track) newReceiver() *receiver {
	r := &receiver{seen: make([]uint64, (t.messages+63)/64)}
	t.mu.Lock()
	t.receivers = append(t.receivers, r)
	t.mu.Unlock()
	return r
}

// deliver records that r received data at now, when data carries this
// run's marker.
func (t *track) deliver(r *receiver, data []byte, now time.Time) {
	seq, scheduled, sent, ok := parseMarker(data, t.prefix)
	if !ok || seq < 0 || seq >= t.messages {
		return
	}
	word, bit := seq/64, uint64(1)<<(seq%64)
	if r.seen[word]&bit != 0 {
		t.duplicates.Add(1)
		return
	}
	r.seen[word] |= bit
	ns := now.UnixNano()
	t.fromSend.record(time.Duration(ns - sent))
	t.fromSchedule.record(time.Duration(ns - scheduled))
	t.unique.Add(1)
	for {
		last := t.lastAt.Load()
		if ns <= last || t.lastAt.CompareAndSwap(last, ns) {
			break
		}
	}
}

func (t *track) markPublished(seq int) {
	t.mu.Lock()
	t.published[seq] = true
	t.mu.Unlock()
}

func (t *track) publishFailed(err error) {
	t.publishFails.Add(1)
	t.errs.add("publish: " + err.Error())
}

func (t *track) connectFailed(err error) {
	t.connectFails.Add(1)
	t.errs.add("connect: " + err.Error())
}

// tally counts, once every receiver has stopped, the items published and
// the deliveries expected of them that never came.
func (t *track) tally() (published int, expected, lost int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for seq, ok := range t.published {
		if !ok {
			continue
		}
		published++
		word, bit := seq/64, uint64(1)<<(seq%64)
		for _, r := range t.receivers {
			expected++
			if r.seen[word]&bit == 0 {
				lost++
			}
		}
	}
	return published, expected, lost
}

// errorSample keeps the first few distinct errors, with how often each
// came: 10,000 refused connections should read as one line.
type errorSample struct {
	mu     sync.Mutex
	order  []string
	counts map[string]int
}

const maxErrorKinds = 5

func (s *errorSample) add(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = map[string]int{}
	}
	if _, ok := s.counts[msg]; !ok && len(s.order) == maxErrorKinds {
		msg = "other errors"
	}
	if _, ok := s.counts[msg]; !ok {
		s.order = append(s.order, msg)
	}
	s.counts[msg]++
}

func (s *errorSample) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.order))
	for _, m := range s.order {
		out = append(out, strconv.Itoa(s.counts[m])+"× "+m)
	}
	return out
}
