package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

// A user follows a topic, sees a post to it arrive live in their open
// feed, leaves the topic (from another tab of theirs) and sees the post
// leave the open feed: its stream is reset and the page reloads by the
// new membership.
func TestFollowAndLeaveATopicWithTheFeedOpen(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", userEmail, userPassword, false)
	if _, err := app.Store.CreateGroup(context.Background(), "deploys", true); err != nil {
		t.Fatal(err)
	}
	user := newTab(t)
	console := watchConsole(t, user)
	signIn(t, user, app, userEmail, userPassword)
	open(t, user, app.URL+"/topics", http.StatusOK)
	if status := submit(t, user, `form[action="/topics/deploys/follow"] button`); status != http.StatusOK {
		t.Fatalf("follow: ended on status %d", status)
	}
	open(t, user, app.URL+"/", http.StatusOK)
	waitUntil(t, user, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)

	resp, body := app.PostAPI(t, token, map[string]any{"title": "Deploy 42 is out", "to": []string{"group:deploys"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post to deploys: %d %s", resp.StatusCode, body)
	}
	id := app.LastNotificationID(t)
	waitLive(t, user, id)

	// Leave from "another tab": a request of this browser's session that
	// does not navigate the feed.
	do(t, user, "leave the topic", chromedp.Evaluate[chromedp.Void](`(() => {
		const body = new URLSearchParams({ _csrf: document.querySelector("input[name=_csrf]").value });
		fetch("/topics/deploys/leave", { method: "POST", body: body, redirect: "manual" });
	})()`))
	// The page reloads meanwhile: a look that meets the navigation looks again.
	gone := fmt.Sprintf(`document.readyState === "complete" && document.getElementById("notification-%d") === null &&
		document.getElementById("connection")?.dataset.state === "live"`, id)
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ok, err := chromedp.Run(user, chromedp.Evaluate[bool](gone)); err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the post did not leave the open feed, live again, within 5s of leaving the topic")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := eval[int](t, user, fmt.Sprintf(`document.querySelectorAll("#notification-%d").length`, id)); n != 0 {
		t.Fatalf("after leaving, the feed shows the topic's post")
	}
	// Reloaded once: the new page's stream is not reset again.
	do(t, user, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__beaconSamePage = true`))
	time.Sleep(time.Second)
	if !eval[bool](t, user, `window.__beaconSamePage === true && document.getElementById("connection").dataset.state === "live"`) {
		t.Fatal("after leaving, the feed reloaded again, or is not live")
	}
	console.noProblems(t, "following and leaving a topic")
}
