package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/models"
	"beacon/app/push/pushtest"
)

// pushApp is Beacon with Web Push to the local push service: a push waits
// delay, and a failed one is tried again after 50ms.
func pushApp(t *testing.T, opts apptest.Options, delay time.Duration) (*apptest.App, string, *pushtest.Service) {
	t.Helper()
	opts.Env = map[string]string{"WEBPUSH_DELAY": delay.String(), "WEBPUSH_ALLOWED_HOSTS": "127.0.0.1", "ADMIN_EMAIL": "ops@example.com"}
	opts.PushRetry = 50 * time.Millisecond
	app, admin, _ := apptest.WithAdmin(t, opts)
	svc := pushtest.New(t, app.PushKey(t))
	t.Cleanup(func() {
		for _, err := range svc.Errors() {
			t.Errorf("push service: %v", err)
		}
	})
	return app, app.Token(t, admin), svc
}

// subscribed is a new user signed in on a browser subscribed to pushes.
func subscribed(t *testing.T, app *apptest.App, svc *pushtest.Service, name string) (*apptest.Client, *pushtest.Device, int64) {
	t.Helper()
	email := strings.ToLower(name) + "@example.com"
	u := app.CreateUser(t, name, email, "password "+name, false)
	c := app.Client(t)
	c.Login(t, email, "password "+name)
	d := svc.NewDevice(t, name)
	c.SubscribePush(t, d.Subscription())
	return c, d, u.ID
}

// kinds is what a device was sent, as "kind id title" lines.
func kinds(d *pushtest.Device) []string {
	var out []string
	for _, p := range d.Received() {
		line := fmt.Sprintf("%v %v", p.Payload["kind"], p.Payload["id"])
		if title, ok := p.Payload["title"]; ok {
			line += fmt.Sprintf(" %v", title)
		}
		out = append(out, line)
	}
	return out
}

func waitFor(t *testing.T, svc *pushtest.Service, what string, cond func() bool) {
	t.Helper()
	if !svc.Wait(10*time.Second, cond) {
		t.Fatalf("waited 10s for %s", what)
	}
}

// A notification reaches the device of the user it is for, not before
// WEBPUSH_DELAY, signed and encrypted as a push service checks; an edit
// follows as `update`, a withdrawal as `withdraw`; others' devices get
// nothing.
func TestAPushFollowsTheNotificationThroughItsLife(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		const delay = 300 * time.Millisecond
		app, token, svc := pushApp(t, opts, delay)
		_, ann, annID := subscribed(t, app, svc, "Ann")
		_, bob, _ := subscribed(t, app, svc, "Bob")

		posted := time.Now()
		id := app.Notify(t, token, map[string]string{"title": "Disk full", "body": "on db1", "level": "error",
			"recipient": "ann@example.com", "url": "/chat"})
		waitFor(t, svc, "the notification", func() bool { return len(ann.Received()) == 1 })
		p := ann.Received()[0]
		if early := p.At.Sub(posted); early < delay {
			t.Errorf("pushed %v after the post, before WEBPUSH_DELAY %v", early, delay)
		}
		want := map[string]any{"kind": "notification", "id": float64(id), "title": "Disk full", "body": "on db1", "level": "error", "url": "/chat"}
		for k, v := range want {
			if p.Payload[k] != v {
				t.Errorf("payload %s = %v, want %v (%v)", k, p.Payload[k], v, p.Payload)
			}
		}
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(p.Payload["created_at"])); err != nil {
			t.Errorf("created_at: %v", err)
		}
		if got := p.Headers.Get("Topic"); got != "n"+strconv.FormatInt(id, 10) {
			t.Errorf("Topic %q", got)
		}
		if got := p.Headers.Get("Urgency"); got != "high" {
			t.Errorf("Urgency %q for an error, want high", got)
		}

		path := "/api/notifications/" + strconv.FormatInt(id, 10)
		if resp, body := app.CallAPI(t, http.MethodPatch, path, token, `{"title":"Disk full again"}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
		}
		waitFor(t, svc, "the update", func() bool { return len(ann.Received()) == 2 })
		if resp, body := app.CallAPI(t, http.MethodDelete, path, token, ""); resp.StatusCode/100 != 2 {
			t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
		}
		waitFor(t, svc, "the withdrawal", func() bool { return len(ann.Received()) == 3 })
		wantKinds := []string{
			fmt.Sprintf("notification %d Disk full", id),
			fmt.Sprintf("update %d Disk full again", id),
			fmt.Sprintf("withdraw %d", id),
		}
		if got := kinds(ann); fmt.Sprint(got) != fmt.Sprint(wantKinds) {
			t.Errorf("Ann's device got %q, want %q", got, wantKinds)
		}
		if got := ann.Received()[1].Headers.Get("Urgency"); got != "high" {
			t.Errorf("update's Urgency %q", got)
		}
		if got := kinds(bob); len(got) != 0 {
			t.Errorf("Bob's device got %q of Ann's notification", got)
		}
		subs, err := app.Store.PushSubscriptionsOf(context.Background(), annID)
		if err != nil || len(subs) != 1 || subs[0].LastPushAt == nil {
			t.Errorf("Ann's device: %+v, %v; want its last push recorded", subs, err)
		}
	})
}

// A notification read (on any device) or withdrawn before WEBPUSH_DELAY
// is never pushed; a broadcast reaches every device.
func TestAPushWaitsAndIsDroppedWhenReadOrWithdrawnMeanwhile(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, token, svc := pushApp(t, opts, time.Second)
		ann, annDev, _ := subscribed(t, app, svc, "Ann")
		_, bobDev, _ := subscribed(t, app, svc, "Bob")

		read := app.Notify(t, token, map[string]string{"title": "Read at once", "recipient": "ann@example.com"})
		withdrawn := app.Notify(t, token, map[string]string{"title": "Taken back", "recipient": "ann@example.com"})
		if resp, body := ann.PostForm(t, "/notifications/"+strconv.FormatInt(read, 10)+"/read", url.Values{}); resp.StatusCode >= 400 {
			t.Fatalf("read: %d %s", resp.StatusCode, body)
		}
		if resp, body := app.CallAPI(t, http.MethodDelete, "/api/notifications/"+strconv.FormatInt(withdrawn, 10), token, ""); resp.StatusCode/100 != 2 {
			t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
		}
		all := app.Notify(t, token, map[string]string{"title": "For everyone"})
		waitFor(t, svc, "the broadcast on both devices", func() bool { return len(annDev.Received()) >= 1 && len(bobDev.Received()) >= 1 })
		waitFor(t, svc, "nothing owed", func() bool {
			c, err := app.Store.CountPushes(context.Background())
			return err == nil && c.Pending == 0
		})
		want := fmt.Sprintf("[notification %d For everyone]", all)
		if got := fmt.Sprint(kinds(annDev)); got != want {
			t.Errorf("Ann's device got %s, want %s (read and withdrawn ones are not pushed)", got, want)
		}
		if got := fmt.Sprint(kinds(bobDev)); got != want {
			t.Errorf("Bob's device got %s, want %s", got, want)
		}
	})
}

// The push service's answers: 500 and 429 are tried again (429 not before
// its Retry-After), 410 deletes the subscription, another 4xx drops the
// push without retrying.
func TestThePushServicesAnswersAreHonoured(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, token, svc := pushApp(t, opts, 0)
		_, retried, _ := subscribed(t, app, svc, "Ann")
		_, gone, goneID := subscribed(t, app, svc, "Bob")
		_, refused, _ := subscribed(t, app, svc, "Cid")
		retried.AnswerNext(pushtest.Answer{Status: 500}, pushtest.Answer{Status: 429, RetryAfter: "1"})
		gone.AnswerNext(pushtest.Answer{Status: 410})
		refused.AnswerNext(pushtest.Answer{Status: 400})

		posted := time.Now()
		first := app.Notify(t, token, map[string]string{"title": "First"})
		waitFor(t, svc, "the retried push", func() bool { return len(retried.Received()) == 1 })
		if took := time.Since(posted); took < time.Second {
			t.Errorf("the push after a 429 with Retry-After: 1 came %v after the post", took)
		}
		waitFor(t, svc, "Bob's device deleted", func() bool {
			subs, err := app.Store.PushSubscriptionsOf(context.Background(), goneID)
			return err == nil && len(subs) == 0
		})
		second := app.Notify(t, token, map[string]string{"title": "Second"})
		waitFor(t, svc, "the second push", func() bool { return len(retried.Received()) == 2 && len(refused.Received()) == 1 })
		if got, want := fmt.Sprint(kinds(refused)), fmt.Sprintf("[notification %d Second]", second); got != want {
			t.Errorf("the device that refused the first push got %s, want %s (the refused one not retried)", got, want)
		}
		if got, want := fmt.Sprint(kinds(retried)), fmt.Sprintf("[notification %d First notification %d Second]", first, second); got != want {
			t.Errorf("the retried device got %s, want %s", got, want)
		}
		if got := kinds(gone); len(got) != 0 {
			t.Errorf("the device that answered 410 got %q", got)
		}
	})
}

// A device whose every push has failed for three days is deleted at its
// next failure; one failing for less is kept.
func TestADeviceFailingForDaysIsDeleted(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, token, svc := pushApp(t, opts, 0)
		_, old, oldID := subscribed(t, app, svc, "Ann")
		_, recent, recentID := subscribed(t, app, svc, "Bob")
		for id, since := range map[int64]time.Duration{oldID: 73 * time.Hour, recentID: 71 * time.Hour} {
			_, err := app.Store.SQL().Exec("UPDATE push_subscriptions SET failing_since = "+
				map[bool]string{true: "$1", false: "?"}[opts.DatabaseURL != ""]+" WHERE user_id = "+strconv.FormatInt(id, 10),
				time.Now().UTC().Add(-since))
			if err != nil {
				t.Fatal(err)
			}
		}
		old.AnswerNext(pushtest.Answer{Status: 500})
		recent.AnswerNext(pushtest.Answer{Status: 500})
		app.Notify(t, token, map[string]string{"title": "Anyone there?"})
		waitFor(t, svc, "Ann's device deleted", func() bool {
			subs, err := app.Store.PushSubscriptionsOf(context.Background(), oldID)
			return err == nil && len(subs) == 0
		})
		waitFor(t, svc, "Bob's device retried, and no longer failing", func() bool {
			subs, err := app.Store.PushSubscriptionsOf(context.Background(), recentID)
			return err == nil && len(subs) == 1 && subs[0].LastPushAt != nil && subs[0].FailingSince == nil
		})
	})
}

// Readdressing a notification pushes it to those who gain it, takes it
// back from those who lose it, and updates it for those who keep it; none
// is told twice that it is new.
func TestReaddressingPushesToWhoGainsAndLosesIt(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, token, svc := pushApp(t, opts, 0)
		_, ann, _ := subscribed(t, app, svc, "Ann")
		_, bob, _ := subscribed(t, app, svc, "Bob")
		_, cid, _ := subscribed(t, app, svc, "Cid")
		id := app.Notify(t, token, map[string]string{"title": "Deploy", "recipient": "ann@example.com"})
		waitFor(t, svc, "Ann's push", func() bool { return len(ann.Received()) == 1 })
		path := "/api/notifications/" + strconv.FormatInt(id, 10)
		if resp, body := app.CallAPI(t, http.MethodPatch, path, token, `{"to":["ann@example.com","bob@example.com"]}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("PATCH to Ann and Bob: %d %s", resp.StatusCode, body)
		}
		waitFor(t, svc, "Bob's push and Ann's update", func() bool { return len(bob.Received()) == 1 && len(ann.Received()) == 2 })
		if resp, body := app.CallAPI(t, http.MethodPatch, path, token, `{"to":["bob@example.com","cid@example.com"]}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("PATCH to Bob and Cid: %d %s", resp.StatusCode, body)
		}
		waitFor(t, svc, "Ann's withdrawal, Bob's update, Cid's push", func() bool {
			return len(ann.Received()) == 3 && len(bob.Received()) == 2 && len(cid.Received()) == 1
		})
		waitFor(t, svc, "nothing owed", func() bool {
			c, err := app.Store.CountPushes(context.Background())
			return err == nil && c.Pending == 0
		})
		for d, want := range map[*pushtest.Device]string{
			ann: fmt.Sprintf("[notification %[1]d Deploy update %[1]d Deploy withdraw %[1]d]", id),
			bob: fmt.Sprintf("[notification %[1]d Deploy update %[1]d Deploy]", id),
			cid: fmt.Sprintf("[notification %[1]d Deploy]", id),
		} {
			if got := fmt.Sprint(kinds(d)); got != want {
				t.Errorf("%s got %s, want %s", d.Name, got, want)
			}
		}
	})
}

// A person's preferences decide what is pushed to them: a muted level is
// not, and in quiet hours only an error is, when they allow it.
func TestPushesFollowThePersonsPreferences(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, token, svc := pushApp(t, opts, 0)
		_, ann, annID := subscribed(t, app, svc, "Ann")
		_, bob, bobID := subscribed(t, app, svc, "Bob")
		errorsOnly := models.DefaultPreferences(annID)
		errorsOnly.Levels = "error"
		// Quiet all day but a minute: every hour is quiet for Bob.
		now := time.Now().UTC()
		quiet := models.DefaultPreferences(bobID)
		quiet.QuietStart, quiet.QuietEnd = now.Add(-time.Hour).Format("15:04"), now.Add(-time.Hour-time.Minute).Format("15:04")
		quiet.QuietAllowErrors = true
		for _, p := range []models.Preferences{errorsOnly, quiet} {
			if err := app.Store.SavePreferences(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		}
		app.Notify(t, token, map[string]string{"title": "Just so you know", "level": "info"})
		id := app.Notify(t, token, map[string]string{"title": "Down", "level": "error"})
		waitFor(t, svc, "the error on both devices", func() bool { return len(ann.Received()) >= 1 && len(bob.Received()) >= 1 })
		waitFor(t, svc, "nothing owed", func() bool {
			c, err := app.Store.CountPushes(context.Background())
			return err == nil && c.Pending == 0
		})
		want := fmt.Sprintf("[notification %d Down]", id)
		for _, d := range []*pushtest.Device{ann, bob} {
			if got := fmt.Sprint(kinds(d)); got != want {
				t.Errorf("%s got %s, want %s alone", d.Name, got, want)
			}
		}
	})
}
