package cli

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"beacon/app/bench"
)

func TestBenchCommandLine(t *testing.T) {
	url := filepath.Join(t.TempDir(), "beacon.db")
	out, err := run(t, url, "", nil, "bench", "-h")
	if err != nil || !strings.Contains(out, "--allow-remote") && !strings.Contains(out, "-allow-remote") {
		t.Fatalf("help: %v\n%s", err, out)
	}
	// Its help names the variables, never their secrets.
	secrets := map[string]string{"BEACON_TOKEN": "bcn_secrettoken", "BEACON_PASSWORD": "secretpassword", "METRICS_TOKEN": "secretmetrics"}
	out, err = run(t, url, "", secrets, "bench", "-h")
	for _, secret := range secrets {
		if err != nil || strings.Contains(out, secret) {
			t.Errorf("help with secrets in the environment: %v; shows %q:\n%s", err, secret, out)
		}
	}
	if _, err := run(t, url, "", nil, "bench", "--no-such-flag"); !errors.Is(err, ErrUsage) {
		t.Fatalf("unknown flag: %v", err)
	}
	if _, err := run(t, url, "", nil, "bench", "extra"); !errors.Is(err, ErrUsage) {
		t.Fatalf("an argument: %v", err)
	}
	if _, err := run(t, url, "", nil, "bench", "--sse", "1", "--url", "http://192.0.2.1:8080"); !errors.Is(err, bench.ErrRemote) {
		t.Fatalf("remote target: %v", err)
	}
	// The token may come from the environment instead of the command line.
	if _, err := run(t, url, "", nil, "bench", "--sse", "1", "--messages", "1"); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("no token: %v", err)
	}
	out, err = run(t, url, "", map[string]string{"BEACON_TOKEN": "t"}, "bench", "--sse", "2", "--messages", "0",
		"--url", "http://127.0.0.1:1", "--json")
	if err != nil || !strings.Contains(out, `"connect_failures": 2`) {
		t.Fatalf("refused target: %v\n%s", err, out)
	}
}
