package apptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Binary is the beacon binary, built once for every test of a package
// that runs it as a process of its own. Declare one per package, and
// call Remove from TestMain once the tests ran.
type Binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the binary from the module's root (which `go list -m`
// names wherever the test runs) at its first call, and returns where it
// is.
func (b *Binary) Path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
		if err != nil {
			b.err = fmt.Errorf("find the module root: go list -m: %v", err)
			return
		}
		if b.dir, b.err = os.MkdirTemp("", "beacon-binary-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "beacon")
		build := exec.Command("go", "build", "-o", b.path, ".")
		build.Dir = strings.TrimSpace(string(root))
		if out, err := build.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Remove deletes the binary, if it was built.
func (b *Binary) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}
