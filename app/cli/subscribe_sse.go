package cli

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"time"
)

// The text/event-stream format as `beacon subscribe` reads it, and nothing
// else.

// maxSSELine bounds one line of a stream, so a broken server cannot make
// the client's buffer grow without end.
const maxSSELine = 1 << 20

// sseEvent is one dispatched message of a stream.
type sseEvent struct {
	Event string // "message" when the message named none
	ID    string // its id: line, when HasID
	HasID bool
	Data  string // its data: lines joined with "\n"
}

// sseParser reads a text/event-stream the way the EventSource
// specification does: LF, CR or CRLF line ends, a leading BOM, comments,
// repeated data lines, fields with or without a space after the colon,
// and blocks without data, which only set the id or the retry.
type sseParser struct {
	sc *bufio.Scanner
	// lastID is the id as of the last complete block: what a reconnect
	// resumes from. A block the connection cut short never sets it.
	lastID string
	// retry is the last retry: the stream sent, or -1.
	retry time.Duration
	begun bool // the BOM check is done
	cr    bool // the last line ended in CR: a LF right after belongs to it
}

func newSSEParser(r io.Reader, lastID string) *sseParser {
	p := &sseParser{lastID: lastID, retry: -1}
	p.sc = bufio.NewScanner(r)
	p.sc.Buffer(make([]byte, 4096), maxSSELine)
	p.sc.Split(p.splitLines)
	return p
}

// splitLines is a bufio.SplitFunc for the three line ends. A CR ends its
// line at once (a server may flush right after it); a LF that follows it
// is skipped with the next line. It never returns an empty token to skip
// bytes: the Scanner would read on before splitting what it holds.
func (p *sseParser) splitLines(data []byte, atEOF bool) (int, []byte, error) {
	skip := 0
	if p.cr && len(data) > 0 && data[0] == '\n' {
		skip = 1
	}
	if i := bytes.IndexAny(data[skip:], "\r\n"); i >= 0 {
		p.cr = data[skip+i] == '\r'
		return skip + i + 1, data[skip : skip+i], nil
	}
	if atEOF && len(data) > 0 {
		// A line without its end: the block it belongs to never ends, and
		// the specification drops it.
		return len(data), nil, nil
	}
	return 0, nil, nil
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// next returns the next message. At the end of the stream it returns
// io.EOF, or the read error.
func (p *sseParser) next() (sseEvent, error) {
	var ev sseEvent
	var data strings.Builder
	hasData := false
	for p.sc.Scan() {
		line := p.sc.Bytes()
		if !p.begun {
			p.begun = true
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		if len(line) == 0 {
			if ev.HasID {
				p.lastID = ev.ID
			}
			if !hasData {
				ev = sseEvent{}
				continue
			}
			if ev.Event == "" {
				ev.Event = "message"
			}
			ev.Data = data.String()
			return ev, nil
		}
		if line[0] == ':' {
			continue // a comment: the heartbeat
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if found {
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch string(name) {
		case "event":
			ev.Event = string(value)
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.Write(value)
			hasData = true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				ev.ID, ev.HasID = string(value), true
			}
		case "retry":
			if ms, ok := sseDigits(value); ok {
				// Bounded here only against overflow; the caller caps it.
				p.retry = time.Duration(min(ms, int64(24*time.Hour/time.Millisecond))) * time.Millisecond
			}
		}
	}
	if err := p.sc.Err(); err != nil {
		return sseEvent{}, err
	}
	return sseEvent{}, io.EOF
}

// sseDigits parses bare ASCII digits, as the retry field requires.
func sseDigits(b []byte) (int64, bool) {
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
