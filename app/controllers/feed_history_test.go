package controllers_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"beacon/app/apptest"
	"beacon/app/models"
)

var (
	titleRe = regexp.MustCompile(`<h3 class="title">\s*(?:<a [^>]*>)?([^<]*)`)
	olderRe = regexp.MustCompile(`<a href="([^"]*)" rel="next">Older</a>`)
)

// feedTitles is the titles a feed page shows, in order, and its Older link.
func feedTitles(t *testing.T, c *apptest.Client, path string) ([]string, string, string) {
	t.Helper()
	resp, body := c.Get(t, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	var titles []string
	for _, m := range titleRe.FindAllStringSubmatch(body, -1) {
		titles = append(titles, html.UnescapeString(m[1]))
	}
	older := ""
	if m := olderRe.FindStringSubmatch(body); m != nil {
		older = html.UnescapeString(m[1])
	}
	return titles, older, body
}

// The feed pages back 50 at a time through "Older" links, narrows by
// level and by text, each a plain GET that keeps the others; what is not
// a position, a level or a search is left out and said on the page.
func TestTheFeedPagesBackAndNarrows(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	for i := range 60 {
		app.Notify(t, token, map[string]string{"title": fmt.Sprintf("n%02d %s", i, models.Levels[i%4]), "level": models.Levels[i%4]})
	}
	app.Notify(t, token, map[string]string{"title": "100% done", "level": "info"})
	c := app.Client(t)

	first, older, body := feedTitles(t, c, "/")
	if len(first) != 50 || first[0] != "100% done" || first[49] != "n11 error" || older == "" || strings.Contains(body, "data-history") {
		t.Fatalf("first page: %d %q…%q, older %q", len(first), first[0], first[len(first)-1], older)
	}
	second, older2, body := feedTitles(t, c, older)
	if len(second) != 11 || second[0] != "n10 warning" || second[10] != "n00 info" || older2 != "" ||
		!strings.Contains(body, `href="/">Newest</a>`) || !strings.Contains(body, "data-history") {
		t.Fatalf("second page (%s): %q, older %q", older, second, older2)
	}

	errs, older, _ := feedTitles(t, c, "/?level=error")
	if len(errs) != 15 || errs[0] != "n59 error" || older != "" {
		t.Fatalf("?level=error: %q", errs)
	}
	for _, n := range errs {
		if !strings.HasSuffix(n, " error") {
			t.Fatalf("?level=error shows %q", n)
		}
	}
	// The older page's position with a level: both hold.
	if got, _, _ := feedTitles(t, c, older2FromFirst(t, c)+"&level=error"); fmt.Sprint(got) != "[n07 error n03 error]" {
		t.Fatalf("?before=…&level=error: %q", got)
	}
	if got, _, _ := feedTitles(t, c, "/?q="+url.QueryEscape("%")); len(got) != 1 || got[0] != "100% done" {
		t.Fatalf("?q=%%: %q", got)
	}
	if got, _, _ := feedTitles(t, c, "/?q=N05+SUC"); len(got) != 1 || got[0] != "n05 success" {
		t.Fatalf("?q=N05 SUC: %q", got)
	}
	if _, _, body := feedTitles(t, c, "/?q=nothing+like+it"); !strings.Contains(body, "Nothing here matches") {
		t.Fatal("a search that finds nothing does not say so")
	}

	for query, notice := range map[string]string{
		"before=abc":                           "must be a position",
		"before=-3":                            "must be a position",
		"level=loud":                           "is not one of info, success, warning, error",
		"q=" + strings.Repeat("x", 201):        "longer than 200 characters",
		"q=" + url.QueryEscape("a\x00b"):       "control characters",
		"level=" + url.QueryEscape("<b>x</b>"): "&lt;b&gt;x&lt;/b&gt;",
	} {
		titles, _, body := feedTitles(t, c, "/?"+query)
		if len(titles) != 50 || titles[0] != "100% done" || !strings.Contains(body, notice) {
			t.Errorf("?%.40s: %d titles, notice %q shown: %v", query, len(titles), notice, strings.Contains(body, notice))
		}
	}
}

// older2FromFirst is the first page's Older link.
func older2FromFirst(t *testing.T, c *apptest.Client) string {
	_, older, _ := feedTitles(t, c, "/")
	return older
}
