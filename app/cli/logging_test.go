package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"beacon/app/config"
)

func TestLoggerFollowsLevelAndFormat(t *testing.T) {
	for _, tc := range []struct {
		env        map[string]string
		json       bool
		debugShown bool
		infoShown  bool
	}{
		{nil, false, false, true},
		{map[string]string{"LOG_FORMAT": "json"}, true, false, true},
		{map[string]string{"LOG_LEVEL": "debug", "LOG_FORMAT": "json"}, true, true, true},
		{map[string]string{"LOG_LEVEL": "warn"}, false, false, false},
	} {
		l, err := config.LoadLogging(func(k string) string { return tc.env[k] })
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		log := NewLogger(&buf, l)
		log.Debug("a debug line")
		log.Info("an info line", "n", 1)
		log.Warn("a warning")
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if got := strings.Contains(buf.String(), "a debug line"); got != tc.debugShown {
			t.Errorf("%v: debug shown %v\n%s", tc.env, got, &buf)
		}
		if got := strings.Contains(buf.String(), "an info line"); got != tc.infoShown {
			t.Errorf("%v: info shown %v\n%s", tc.env, got, &buf)
		}
		for _, line := range lines {
			var m map[string]any
			isJSON := json.Unmarshal([]byte(line), &m) == nil && m["msg"] != nil && m["level"] != nil
			if isJSON != tc.json {
				t.Errorf("%v: line %q is JSON: %v, want %v", tc.env, line, isJSON, tc.json)
			}
		}
	}
}
