package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"beacon/app/push"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != "8080" || c.DatabaseURL != "beacon.db" || !c.Migrate || !c.Signup || c.Heartbeat != 15*time.Second ||
		!c.SecretMissing || len(c.SecretKeyBase) < 32 || c.Retention != 0 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestSettings(t *testing.T) {
	c, err := Load(env(map[string]string{
		"PORT": "9000", "MIGRATE": "false", "SECRET_KEY_BASE": "s3cret", "HEARTBEAT_INTERVAL": "250ms", "RETENTION": "720h",
		"ALLOWED_ORIGINS": " https://a.example , https://b.example/ ,", "APP_ENV": "production",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != "9000" || c.Migrate || string(c.SecretKeyBase) != "s3cret" || c.SecretMissing || !c.Production ||
		c.Heartbeat != 250*time.Millisecond || c.Retention != 720*time.Hour || len(c.AllowedOrigins) != 2 || c.AllowedOrigins[1] != "https://b.example" {
		t.Fatalf("settings: %+v", c)
	}
}

func TestRefusesBadSettings(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"production without secret":  {"APP_ENV": "production"},
		"heartbeat not a duration":   {"HEARTBEAT_INTERVAL": "15"},
		"heartbeat zero":             {"HEARTBEAT_INTERVAL": "0s"},
		"migrate not a bool":         {"MIGRATE": "maybe"},
		"signup not a bool":          {"SIGNUP": "nah"},
		"retention not a duration":   {"RETENTION": "30d"},
		"retention zero":             {"RETENTION": "0"},
		"retention negative":         {"RETENTION": "-1h"},
		"user limit negative":        {"STREAM_LIMIT_USER": "-1"},
		"address limit not a number": {"STREAM_LIMIT_ADDRESS": "lots"},
	} {
		if _, err := Load(env(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSignupLimit(t *testing.T) {
	for v, want := range map[string]int{"": 10, "0": 0, "3": 3} {
		c, err := Load(env(map[string]string{"SIGNUP_LIMIT": v}))
		if err != nil || c.SignupLimit != want {
			t.Errorf("SIGNUP_LIMIT=%q: %d %v, want %d", v, c.SignupLimit, err, want)
		}
	}
	for _, v := range []string{"-1", "ten"} {
		if _, err := Load(env(map[string]string{"SIGNUP_LIMIT": v})); err == nil {
			t.Errorf("SIGNUP_LIMIT=%q accepted", v)
		}
	}
}

func TestLogSettings(t *testing.T) {
	for _, tc := range []struct {
		level, format string
		want          slog.Level
		json          bool
	}{
		{"", "", slog.LevelInfo, false},
		{"debug", "json", slog.LevelDebug, true},
		{"INFO", "text", slog.LevelInfo, false},
		{"warn", "JSON", slog.LevelWarn, true},
		{"error", "", slog.LevelError, false},
	} {
		c, err := Load(env(map[string]string{"LOG_LEVEL": tc.level, "LOG_FORMAT": tc.format}))
		if err != nil {
			t.Fatalf("LOG_LEVEL=%q LOG_FORMAT=%q: %v", tc.level, tc.format, err)
		}
		if c.Log.Level != tc.want || c.Log.JSON != tc.json {
			t.Errorf("LOG_LEVEL=%q LOG_FORMAT=%q: %+v", tc.level, tc.format, c.Log)
		}
	}
	for name, m := range map[string]map[string]string{
		"level unknown":  {"LOG_LEVEL": "loud"},
		"level number":   {"LOG_LEVEL": "4"},
		"level offset":   {"LOG_LEVEL": "info+2"},
		"format unknown": {"LOG_FORMAT": "xml"},
	} {
		_, err := Load(env(m))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		// The message names the setting and what it takes.
		for k := range m {
			if !strings.Contains(err.Error(), k) {
				t.Errorf("%s: %v does not name %s", name, err, k)
			}
		}
	}
}

func TestStreamLimits(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.StreamLimitUser != 30 || c.StreamLimitAddress != 200 {
		t.Fatalf("defaults: user %d address %d (%v)", c.StreamLimitUser, c.StreamLimitAddress, err)
	}
	c, err = Load(env(map[string]string{"STREAM_LIMIT_USER": "0", "STREAM_LIMIT_ADDRESS": "5"}))
	if err != nil || c.StreamLimitUser != 0 || c.StreamLimitAddress != 5 {
		t.Fatalf("set: user %d address %d (%v)", c.StreamLimitUser, c.StreamLimitAddress, err)
	}
}

func TestWebPushKeysComeAsAPairOrNotAtAll(t *testing.T) {
	k, err := push.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"WEBPUSH_PUBLIC_KEY": k.Public, "WEBPUSH_PRIVATE_KEY": " " + k.Private + "\n"}))
	if err != nil || c.WebPush != k {
		t.Fatalf("a pair: %+v, %v", c.WebPush, err)
	}
	if c, err := Load(env(nil)); err != nil || c.WebPush != (push.Keys{}) {
		t.Fatalf("neither: %+v, %v", c.WebPush, err)
	}
	other, _ := push.NewKeys()
	for name, m := range map[string]map[string]string{
		"public alone":      {"WEBPUSH_PUBLIC_KEY": k.Public},
		"private alone":     {"WEBPUSH_PRIVATE_KEY": k.Private},
		"not a pair":        {"WEBPUSH_PUBLIC_KEY": other.Public, "WEBPUSH_PRIVATE_KEY": k.Private},
		"private not a key": {"WEBPUSH_PUBLIC_KEY": k.Public, "WEBPUSH_PRIVATE_KEY": "abc"},
	} {
		if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), "WEBPUSH_") {
			t.Errorf("%s: %v, want refused naming the setting", name, err)
		}
	}
}

func TestWebPushDelayAndSubject(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.WebPushDelay != 10*time.Second || c.WebPushSubject != "" {
		t.Fatalf("defaults: %v %q (%v)", c.WebPushDelay, c.WebPushSubject, err)
	}
	c, err = Load(env(map[string]string{"WEBPUSH_DELAY": "0s", "ADMIN_EMAIL": "ops@example.com"}))
	if err != nil || c.WebPushDelay != 0 || c.WebPushSubject != "mailto:ops@example.com" {
		t.Fatalf("no delay, an admin: %v %q (%v)", c.WebPushDelay, c.WebPushSubject, err)
	}
	c, err = Load(env(map[string]string{"ALLOWED_ORIGINS": "https://beacon.example.com/", "ADMIN_EMAIL": "ops@example.com",
		"WEBPUSH_SUBJECT": "https://example.com/contact"}))
	if err != nil || c.WebPushSubject != "https://example.com/contact" {
		t.Fatalf("set: %q (%v)", c.WebPushSubject, err)
	}
	if c, err = Load(env(map[string]string{"ALLOWED_ORIGINS": "https://beacon.example.com/"})); err != nil || c.WebPushSubject != "https://beacon.example.com" {
		t.Fatalf("from the origin: %q (%v)", c.WebPushSubject, err)
	}
	if c, err = Load(env(map[string]string{"ALLOWED_ORIGINS": "http://localhost:8080"})); err != nil || c.WebPushSubject != "" {
		t.Fatalf("from an http:// origin: %q (%v), want none", c.WebPushSubject, err)
	}
	for name, m := range map[string]map[string]string{
		"a negative delay":                {"WEBPUSH_DELAY": "-1s"},
		"a delay without unit":            {"WEBPUSH_DELAY": "10"},
		"a subject not mailto: or https:": {"WEBPUSH_SUBJECT": "ops@example.com"},
	} {
		if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), "WEBPUSH_") {
			t.Errorf("%s: %v, want refused naming the setting", name, err)
		}
	}
}
