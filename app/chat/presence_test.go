package chat_test

// Presence across instances: two hubs on one database file and one broker
// are two instances.

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/broker"
	"beacon/app/chat"
)

// untilOnline reads c's presence frames until one lists exactly want,
// unless last (the list c was sent last) does.
func untilOnline(t *testing.T, c *apptest.Chatter, last []string, want ...string) {
	t.Helper()
	if slices.Equal(last, want) {
		return
	}
	var seen [][]string
	for {
		p := c.NextOf("presence") // fails the test after its deadline
		if slices.Equal(p.Online, want) {
			return
		}
		seen = append(seen, p.Online)
		if len(seen) > 5 {
			t.Fatalf("presence %v, want %v", seen, want)
		}
	}
}

func TestChatPresenceAcrossInstances(t *testing.T) {
	a := newChatRig(t, chat.Options{})
	b := a.another(t, chat.Options{})
	annUser, bobUser := a.user(t, "Ann"), a.user(t, "Bob")
	ann, _, online := a.join(t, annUser, "general")
	if !slices.Equal(online, []string{"Ann"}) {
		t.Fatalf("online %v", online)
	}
	bob, _, online := b.join(t, bobUser, "general")
	untilOnline(t, bob, online, "Ann", "Bob")
	untilOnline(t, ann, nil, "Ann", "Bob")

	// A second tab of Bob's, on Ann's instance: still one Bob.
	bob2, _, online := a.join(t, bobUser, "general")
	if !slices.Equal(online, []string{"Ann", "Bob"}) {
		t.Fatalf("second tab sees %v", online)
	}
	// Bob leaves one instance, then the other: Ann's list changes once.
	bob.Conn.Close()
	bob2.Conn.Close()
	if p := ann.NextOf("presence"); !slices.Equal(p.Online, []string{"Ann"}) {
		t.Fatalf("after Bob left: %v", p.Online)
	}

	// An instance that shuts down says goodbye: its users leave the
	// others' lists at once, not after the 30 s expiry.
	bob, _, online = b.join(t, bobUser, "general")
	untilOnline(t, bob, online, "Ann", "Bob")
	untilOnline(t, ann, nil, "Ann", "Bob")
	start := time.Now()
	a.stop(t)
	untilOnline(t, bob, nil, "Bob")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Ann left the list %v after her instance stopped", took)
	}
}

// The users of an instance killed without a goodbye leave the list once
// its rows expire; those of a live one stay, since it refreshes them.
func TestChatPresenceOfAKilledInstanceExpires(t *testing.T) {
	const ttl = 900 * time.Millisecond
	a := newChatRig(t, chat.Options{PresenceTTL: ttl})
	b := a.another(t, chat.Options{PresenceTTL: ttl})
	ann, _, _ := a.join(t, a.user(t, "Ann"), "general")
	b.join(t, a.user(t, "Bob"), "general")
	untilOnline(t, ann, nil, "Ann", "Bob")

	// What a killed instance leaves: its rows, written as it wrote them,
	// and never refreshed or deleted.
	ctx := context.Background()
	cy := a.user(t, "Cy")
	expires := time.Now().Add(ttl)
	if err := a.store.SetChatPresence(ctx, "general", "killed/1", []int64{cy.ID}, expires); err != nil {
		t.Fatal(err)
	}
	if err := a.broker.Publish(ctx, broker.PresenceTopic("general")); err != nil {
		t.Fatal(err)
	}
	untilOnline(t, ann, nil, "Ann", "Bob", "Cy")
	if p := ann.NextOf("presence"); !slices.Equal(p.Online, []string{"Ann", "Bob"}) {
		t.Fatalf("after the expiry: %v", p.Online)
	}
	// The store keeps expiries in whole milliseconds.
	if early := time.Until(expires.Truncate(time.Millisecond)); early > 0 {
		t.Fatalf("Cy left the list %v before his rows expired", early)
	}

	// Bob's instance refreshes his rows: several TTLs later he is listed
	// still, and no presence frame came meanwhile.
	_ = ann.Conn.SetReadDeadline(time.Now().Add(3 * ttl))
	_, data, err := ann.Conn.ReadMessage()
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %q (%v), want no frame while Bob stays", data, err)
	}
}
