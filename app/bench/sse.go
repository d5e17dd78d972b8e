package bench

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"
)

// maxSSELine bounds one line of a stream, so a broken server cannot make
// a client grow its buffer without end.
const maxSSELine = 1 << 20

var errSSELineTooLong = errors.New("sse: line over 1 MiB")

// errWouldBlock is a reader's "nothing to read now" (a non-blocking
// socket's EAGAIN): Next returns it and keeps its place, so a later call
// goes on where this one stopped.
var errWouldBlock = errors.New("sse: nothing to read now")

// sseFrame is what sseReader.Next returns: one comment line, or one block
// of fields ended by a blank line. Its byte slices are valid until the
// next call.
type sseFrame struct {
	Comment  bool   // a ": …" line; nothing else is set
	Dispatch bool   // the block had data: a browser would dispatch it
	ID       []byte // the last event id as of this block, as EventSource keeps it
	Type     []byte // the event type; "message" when the block set none
	Data     []byte // the data lines joined with "\n"
	Retry    int64  // the block's retry: value, or -1
	// At is when the read that completed the block returned: the moment
	// it arrived, give or take the parsing of the frames read with it.
	// One clock reading a read, not one a frame: at 100 notifications/s a
	// read carries several, and the clock was 5% of the load client's CPU.
	At time.Time
}

// sseReader parses a text/event-stream the way the EventSource
// specification does (LF, CR or CRLF line ends, a leading BOM, fields with
// or without a space after the colon, repeated data lines), reusing its
// buffers so that a client costs no allocation per event.
type sseReader struct {
	r      io.Reader
	buf    []byte
	start  int // next unread byte in buf
	end    int // end of the bytes read into buf
	eof    error
	begun  bool // the BOM check is done
	skipLF bool // the last line ended with CR: a following LF belongs to it

	lastID  []byte
	typ     []byte
	data    []byte
	hasData bool
	retry   int64
	fields  bool      // the current block has had a field
	readAt  time.Time // when the last read that returned bytes did
}

func newSSEReader(r io.Reader, size int) *sseReader {
	return &sseReader{r: r, buf: make([]byte, size), retry: -1}
}

var (
	bom          = []byte("\xEF\xBB\xBF")
	messageType  = []byte("message")
	fieldID      = []byte("id")
	fieldEvent   = []byte("event")
	fieldData    = []byte("data")
	fieldRetry   = []byte("retry")
	notification = []byte("notification")
)

// Next returns the next comment or block. At the end of the stream it
// returns io.EOF (or the read error); a block the stream left unfinished
// is dropped, as a browser drops it.
func (s *sseReader) Next() (sseFrame, error) {
	for {
		line, err := s.line()
		if err != nil {
			return sseFrame{}, err
		}
		if len(line) == 0 {
			if !s.fields {
				continue
			}
			f := sseFrame{ID: s.lastID, Type: s.typ, Retry: s.retry, At: s.readAt}
			if s.hasData {
				f.Dispatch = true
				f.Data = s.data[:len(s.data)-1] // without the last "\n"
			}
			if len(f.Type) == 0 {
				f.Type = messageType
			}
			s.typ, s.data, s.hasData, s.retry, s.fields = s.typ[:0], s.data[:0], false, -1, false
			return f, nil
		}
		if line[0] == ':' {
			return sseFrame{Comment: true, Retry: -1}, nil
		}
		s.field(line)
	}
}

func (s *sseReader) field(line []byte) {
	name, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	s.fields = true
	switch {
	case bytes.Equal(name, fieldData):
		s.data = append(append(s.data, value...), '\n')
		s.hasData = true
	case bytes.Equal(name, fieldEvent):
		s.typ = append(s.typ[:0], value...)
	case bytes.Equal(name, fieldID):
		if bytes.IndexByte(value, 0) < 0 {
			s.lastID = append(s.lastID[:0], value...)
		}
	case bytes.Equal(name, fieldRetry):
		if n, ok := digits(value); ok {
			s.retry = n
		}
	}
}

// digits parses bare ASCII digits, as the retry field requires.
func digits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

// line returns the next line without its end; the slice points into buf.
func (s *sseReader) line() ([]byte, error) {
	for {
		if s.skipLF && s.start < s.end {
			if s.buf[s.start] == '\n' {
				s.start++
			}
			s.skipLF = false
		}
		if !s.begun && (s.end-s.start >= len(bom) || s.eof != nil) {
			if bytes.HasPrefix(s.buf[s.start:s.end], bom) {
				s.start += len(bom)
			}
			s.begun = true
		}
		if s.begun {
			rest := s.buf[s.start:s.end]
			if i := lineEnd(rest); i >= 0 {
				line := rest[:i]
				s.start += i + 1
				s.skipLF = rest[i] == '\r'
				return line, nil
			}
		}
		if s.eof != nil {
			return nil, s.eof
		}
		if err := s.fill(); err != nil {
			return nil, err
		}
	}
}

// fill reads more, making room first: it moves the unread bytes to the
// front, or grows the buffer when one line fills it.
func (s *sseReader) fill() error {
	if s.start > 0 {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.start, s.end = 0, n
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= maxSSELine {
			return errSSELineTooLong
		}
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	if n > 0 {
		s.readAt = time.Now()
	}
	if err == errWouldBlock {
		return err
	}
	if err != nil {
		s.eof = err
	}
	return nil
}

// lineEnd is the index of the first CR or LF in b, or -1: two IndexByte
// scans, which are vectorised, where IndexAny goes a byte at a time.
func lineEnd(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	search := b
	if i >= 0 {
		search = b[:i]
	}
	if j := bytes.IndexByte(search, '\r'); j >= 0 {
		return j
	}
	return i
}
