package controllers

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/pages"
)

// maxQuery bounds the feed's search text, in characters.
const maxQuery = 200

// feedFilter reads the feed's history parameters (?before=, ?level=,
// ?q=, ?view=archived). One that is not what it should be is left out and said on the
// page: a link someone mistyped still shows a feed.
func feedFilter(c echo.Context) (store.FeedFilter, []string) {
	var f store.FeedFilter
	var notices []string
	if v := c.QueryParam("before"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			f.Before = n
		} else {
			notices = append(notices, "Showing the newest: “before” must be a position, a whole number above 0.")
		}
	}
	if v := c.QueryParam("level"); v != "" {
		if slices.Contains(models.Levels, v) {
			f.Level = v
		} else {
			notices = append(notices, "Showing every level: “"+strings.ToValidUTF8(truncate(v, 20), "?")+"” is not one of "+strings.Join(models.Levels, ", ")+".")
		}
	}
	switch v := c.QueryParam("view"); v {
	case "":
	case "archived":
		f.Archived = true
	default:
		notices = append(notices, "Showing the feed: the only other view is “archived”.")
	}
	if v := strings.TrimSpace(c.QueryParam("q")); v != "" {
		switch {
		case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
			notices = append(notices, "Not searching: the text must not hold control characters.")
		case utf8.RuneCountInString(v) > maxQuery:
			notices = append(notices, "Not searching: the text is longer than "+strconv.Itoa(maxQuery)+" characters.")
		default:
			f.Q = v
		}
	}
	return f, notices
}

// feedHistory is what the page says of f: the filter's form, where the
// older page is (after a full page, from its oldest), and where the newest.
func feedHistory(f store.FeedFilter, notices []string, ns []models.Notification, full bool) pages.FeedHistory {
	h := pages.FeedHistory{Level: f.Level, Q: f.Q, Paged: f.Before > 0, Notices: notices,
		Filtered: f.Level != "" || f.Q != "", Archived: f.Archived}
	if full && len(ns) > 0 {
		older := f
		older.Before = ns[len(ns)-1].FirstPosition
		h.Older = feedURL(older)
	}
	if h.Paged {
		newest := f
		newest.Before = 0
		h.Newest = feedURL(newest)
	}
	return h
}

// feedURL is the feed's address for f.
func feedURL(f store.FeedFilter) string {
	v := url.Values{}
	if f.Before > 0 {
		v.Set("before", strconv.FormatInt(f.Before, 10))
	}
	if f.Level != "" {
		v.Set("level", f.Level)
	}
	if f.Q != "" {
		v.Set("q", f.Q)
	}
	if f.Archived {
		v.Set("view", "archived")
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}
