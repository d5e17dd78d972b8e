package bench

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// frames renders what the reader returns, one line per frame.
func frames(t *testing.T, r io.Reader) []string {
	t.Helper()
	s := newSSEReader(r, 8)
	var out []string
	for blocked := 0; ; {
		f, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err == errWouldBlock {
			// The inputs are a few hundred bytes: a reader that keeps its
			// place is through them long before this.
			if blocked++; blocked > 10000 {
				t.Fatal("the reader reports nothing to read, again and again")
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case f.Comment:
			out = append(out, "comment")
		case f.Dispatch:
			out = append(out, fmt.Sprintf("id=%s type=%s data=%q retry=%d", f.ID, f.Type, f.Data, f.Retry))
		default:
			out = append(out, fmt.Sprintf("block id=%s retry=%d", f.ID, f.Retry))
		}
	}
}

func TestSSEReaderFollowsTheSpecification(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"beacon's frames", "retry: 2000\n\nid: 7\nevent: notification\ndata: {\"id\":7}\n\n: ping\n\n",
			[]string{"block id= retry=2000", `id=7 type=notification data="{\"id\":7}" retry=-1`, "comment"}},
		{"CRLF and CR line ends", "id: 1\r\ndata: a\r\n\r\nid: 2\rdata: b\r\r",
			[]string{`id=1 type=message data="a" retry=-1`, `id=2 type=message data="b" retry=-1`}},
		{"a leading BOM", "\xEF\xBB\xBFdata: x\n\n", []string{`id= type=message data="x" retry=-1`}},
		{"no space after the colon, repeated data", "data:a\ndata: b\ndata\n\n",
			[]string{`id= type=message data="a\nb\n" retry=-1`}},
		{"the id carries over, the type does not", "id: 5\nevent: update\ndata: 1\n\ndata: 2\n\n",
			[]string{`id=5 type=update data="1" retry=-1`, `id=5 type=message data="2" retry=-1`}},
		{"a retry that is not bare digits is ignored", "retry: 2s\n\n", []string{"block id= retry=-1"}},
		{"an id with NUL is ignored", "id: 3\ndata: a\n\nid: 4\x00\ndata: b\n\n",
			[]string{`id=3 type=message data="a" retry=-1`, `id=3 type=message data="b" retry=-1`}},
		{"unknown fields and blank lines", "\n\nfoo: bar\ndata: z\n\n", []string{`id= type=message data="z" retry=-1`}},
		{"an unfinished block is dropped", "data: a\n\ndata: b\n", []string{`id= type=message data="a" retry=-1`}},
		{"a line longer than the buffer", "data: " + strings.Repeat("x", 100) + "\n\n",
			[]string{fmt.Sprintf(`id= type=message data=%q retry=-1`, strings.Repeat("x", 100))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(c.in), iotest.OneByteReader(strings.NewReader(c.in)), &blockingEveryOther{r: strings.NewReader(c.in)}} {
				got := frames(t, r)
				if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
					t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
				}
			}
		})
	}
}

func TestSSEReaderRefusesEndlessLines(t *testing.T) {
	s := newSSEReader(io.MultiReader(strings.NewReader("data: "), zeros{}), 4096)
	if _, err := s.Next(); !errors.Is(err, errSSELineTooLong) {
		t.Fatalf("got %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// One event parsed costs no allocation once the buffers have grown.
func TestSSEReaderDoesNotAllocatePerEvent(t *testing.T) {
	frame := "id: 12\nevent: notification\ndata: {\"id\":12,\"title\":\"bench:abc:1:2:3\"}\n\n"
	r := &repeatReader{s: frame}
	s := newSSEReader(r, 4096)
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per event", allocs)
	}
}

type repeatReader struct {
	s   string
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.off:])
		n += c
		r.off = (r.off + c) % len(r.s)
	}
	return n, nil
}

// blockingEveryOther is a non-blocking socket that holds a byte only every
// other time it is read: the reader must keep its place across
// errWouldBlock, as the poller needs.
type blockingEveryOther struct {
	r     io.Reader
	empty bool
}

func (b *blockingEveryOther) Read(p []byte) (int, error) {
	if b.empty = !b.empty; b.empty {
		return 0, errWouldBlock
	}
	return b.r.Read(p[:min(len(p), 1)])
}

// chunks hands out its chunks one read each, noting when each read began.
type chunks struct {
	parts []string
	began []time.Time
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	time.Sleep(2 * time.Millisecond) // so that reads are told apart by the clock
	c.began = append(c.began, time.Now())
	n := copy(p, c.parts[0])
	c.parts = c.parts[1:]
	return n, nil
}

// A frame is timed by the read that completed it: frames that came in one
// read share its time, and one split over two reads has the second's.
func TestSSEFramesCarryTheTimeOfTheirRead(t *testing.T) {
	in := &chunks{parts: []string{"data: a\n\ndata: b\n\ndata: c", "\n\n"}}
	s := newSSEReader(in, 64)
	var at []time.Time
	for {
		f, err := s.Next()
		if err != nil {
			break
		}
		at = append(at, f.At)
	}
	if len(at) != 3 || len(in.began) != 2 {
		t.Fatalf("%d frames from %d reads, want 3 from 2", len(at), len(in.began))
	}
	first, second := in.began[0], in.began[1]
	if !at[0].Equal(at[1]) || at[0].Before(first) || !at[0].Before(second) {
		t.Errorf("frames of the first read at %v and %v; that read began at %v, the next at %v", at[0], at[1], first, second)
	}
	if at[2].Before(second) {
		t.Errorf("the frame the second read completed is at %v, before that read began (%v)", at[2], second)
	}
}
