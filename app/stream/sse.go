package stream

import (
	"bytes"
	"strconv"
	"time"

	"beacon/app/models"
)

// The Server-Sent Events wire format, and nothing else.

// ping is the heartbeat comment, shared by every stream.
var ping = []byte(": ping\n\n")

// retryFrame tells EventSource how long to wait before reconnecting.
func retryFrame(d time.Duration) []byte {
	return []byte("retry: " + strconv.FormatInt(d.Milliseconds(), 10) + "\n\n")
}

// encodeEvent renders one event. data must be a single line (compact JSON
// is), so it needs one data: field.
func encodeEvent(id int64, event string, data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data) + len(event) + 40)
	b.WriteString("id: ")
	b.WriteString(strconv.FormatInt(id, 10))
	b.WriteString("\nevent: ")
	b.WriteString(event)
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}

// encodeWithdraw is a withdraw event's data: the notification's id alone.
func encodeWithdraw(id int64) []byte {
	return []byte(`{"id":` + strconv.FormatInt(id, 10) + `}`)
}

// encodeReset is a reset event's data: the position the client resumes from.
func encodeReset(lastID int64) []byte {
	return []byte(`{"last_id":` + strconv.FormatInt(lastID, 10) + `}`)
}

// encodeUnread renders the signed-in user's unread count. It has no id:
// line, so the browser's Last-Event-ID stays a stream position.
func encodeUnread(n int64) []byte {
	return []byte("event: unread\ndata: {\"unread\":" + strconv.FormatInt(n, 10) + "}\n\n")
}

// encodeState renders a user's read and archive changes, in order, as
// `state` events: a run of one kind and value is one event naming every id
// in it. They have no id: line either.
func encodeState(cs []models.StateChange) []byte {
	var b bytes.Buffer
	for i := 0; i < len(cs); {
		c := cs[i]
		b.WriteString("event: state\ndata: ")
		if c.Kind == models.StateAllRead {
			b.WriteString(`{"all":true,"read":true,"through":` + strconv.FormatInt(c.Through, 10) + "}\n\n")
			i++
			continue
		}
		b.WriteString(`{"ids":[`)
		j := i
		for ; j < len(cs) && cs[j].Kind == c.Kind && cs[j].Value == c.Value; j++ {
			if j > i {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(cs[j].NotificationID, 10))
		}
		b.WriteString(`],"` + c.Kind + `":` + strconv.FormatBool(c.Value) + "}\n\n")
		i = j
	}
	return b.Bytes()
}
