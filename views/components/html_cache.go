package components

import (
	"context"
	"sync"
	"time"

	"beacon/app/models"
)

// HTMLCache remembers the Notification fragment rendered for each of a
// few recent stream positions. A post is rendered for its API answer and
// then again, once committed, by the hub of the same instance: sharing
// one cache, the second render of the fragment (most of the JSON's cost)
// is a lookup. It answers from memory only when every field the fragment
// is made from is equal, so never with another state.
type HTMLCache struct {
	mu      sync.Mutex
	entries []htmlEntry // by position modulo their count
}

// htmlEntry is one rendered fragment and what it was made from.
type htmlEntry struct {
	from htmlFrom
	html string
}

// htmlFrom is every input of the Notification component.
type htmlFrom struct {
	id, first          int64
	title, body, level string
	url                string
	hasURL             bool
	created            time.Time
}

// NewHTMLCache remembers up to size fragments.
func NewHTMLCache(size int) *HTMLCache {
	return &HTMLCache{entries: make([]htmlEntry, max(size, 1))}
}

// NotificationJSON is NotificationJSON with the fragment from the cache
// (a nil or zero cache renders every time).
func (c *HTMLCache) NotificationJSON(ctx context.Context, n models.Notification) ([]byte, error) {
	return encodeNotification(ctx, n, c.NotificationHTML)
}

// NotificationHTML is NotificationHTML, from the cache when it holds n's
// fragment.
func (c *HTMLCache) NotificationHTML(ctx context.Context, n models.Notification) (string, error) {
	if c == nil || len(c.entries) == 0 {
		return NotificationHTML(ctx, n)
	}
	from := htmlFrom{
		id: n.ID, first: n.FirstPosition, title: n.Title, body: n.Body, level: n.Level,
		created: n.CreatedAt.UTC(), // the fragment writes the instant in UTC
	}
	if n.URL != nil {
		from.url, from.hasURL = *n.URL, true
	}
	i := int(uint64(n.Position) % uint64(len(c.entries)))
	c.mu.Lock()
	e := c.entries[i]
	c.mu.Unlock()
	if e.html != "" && e.from == from {
		return e.html, nil
	}
	html, err := NotificationHTML(ctx, n)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.entries[i] = htmlEntry{from: from, html: html}
	c.mu.Unlock()
	return html, nil
}
