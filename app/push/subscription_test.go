package push_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"beacon/app/push"
)

// A browser's subscription, with keys as a browser makes them.
func browserSubscription(t *testing.T, endpoint string) push.Subscription {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	return push.Subscription{Endpoint: endpoint, Keys: push.SubKeys{
		P256dh: base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
		Auth:   base64.RawURLEncoding.EncodeToString(secret)}}
}

func TestASubscriptionMustNameAnAllowedPushServiceAndCarryKeys(t *testing.T) {
	allowed := append(push.DefaultAllowedHosts, "127.0.0.1")
	for endpoint, want := range map[string]string{
		"https://fcm.googleapis.com/fcm/send/abc":                 "",
		"https://updates.push.services.mozilla.com/wpush/v2/abc":  "",
		"https://wns2-by3p.notify.windows.com/w/?token=abc":       "",
		"https://web.push.apple.com/QGx":                          "",
		"http://127.0.0.1:9999/push/1":                            "",
		"http://fcm.googleapis.com/fcm/send/abc":                  "https://",
		"https://push.evil.example/abc":                           "WEBPUSH_ALLOWED_HOSTS",
		"https://notify.windows.com.evil.example/abc":             "WEBPUSH_ALLOWED_HOSTS",
		"https://user@fcm.googleapis.com/abc":                     "endpoint must be",
		"":                                                        "endpoint must be",
		"fcm.googleapis.com/fcm/send/abc":                         "endpoint must be",
		"https://fcm.googleapis.com/" + strings.Repeat("a", 2000): "endpoint must be",
	} {
		err := browserSubscription(t, endpoint).Check(allowed)
		switch {
		case want == "" && err != nil:
			t.Errorf("%.60q: %v, want accepted", endpoint, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%.60q: %v, want an error about %s", endpoint, err, want)
		}
	}
	good := browserSubscription(t, "https://fcm.googleapis.com/fcm/send/abc")
	for what, mangle := range map[string]func(*push.Subscription){
		"p256dh not a point": func(s *push.Subscription) { s.Keys.P256dh = base64.RawURLEncoding.EncodeToString(make([]byte, 65)) },
		"p256dh not base64":  func(s *push.Subscription) { s.Keys.P256dh = "***" },
		"auth too short":     func(s *push.Subscription) { s.Keys.Auth = "AAAA" },
		"no auth":            func(s *push.Subscription) { s.Keys.Auth = "" },
	} {
		s := good
		mangle(&s)
		if err := s.Check(allowed); err == nil || !strings.Contains(err.Error(), "keys.") {
			t.Errorf("%s: %v, want an error naming the key", what, err)
		}
	}
}
