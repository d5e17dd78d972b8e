package controllers_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"beacon/app/apptest"
	"beacon/app/push"
)

// GET /push/key is the VAPID public key: the environment's when set, else
// the pair the database keeps, the same on every instance of it.
func TestPushKeyIsTheSameOnEveryInstance(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		a := apptest.New(t, opts)
		key := func(app *apptest.App) string {
			t.Helper()
			resp, body := app.Client(t).Get(t, "/push/key")
			var got struct {
				PublicKey string `json:"public_key"`
			}
			if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got.PublicKey == "" {
				t.Fatalf("GET /push/key: %d %s", resp.StatusCode, body)
			}
			return got.PublicKey
		}
		stored, err := a.Store.WebPushKeys(t.Context(), func() (push.Keys, error) { t.Fatal("no pair kept"); return push.Keys{}, nil })
		if err != nil || key(a) != stored.Public {
			t.Fatalf("the key served is not the one kept (%v)", err)
		}
		if opts.DatabaseURL == "" {
			return
		}
		b := apptest.New(t, apptest.Options{DatabaseURL: opts.DatabaseURL})
		if key(b) != stored.Public {
			t.Error("a second instance on the same database serves another key")
		}
		set, err := push.NewKeys()
		if err != nil {
			t.Fatal(err)
		}
		c := apptest.New(t, apptest.Options{DatabaseURL: opts.DatabaseURL,
			Env: map[string]string{"WEBPUSH_PUBLIC_KEY": set.Public, "WEBPUSH_PRIVATE_KEY": set.Private}})
		if key(c) != set.Public {
			t.Error("WEBPUSH_PUBLIC_KEY is not the key served")
		}
	})
}
