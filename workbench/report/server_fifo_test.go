//go:build unix

package report

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServerRefusesFIFOsAndDevices checks that a FIFO in the store (as
// results.json, or as a file asked for) and a symlink to /dev/zero
// neither hang nor exhaust a request: the index answers at once without
// results, and the files are refused with 403.
func TestServerRefusesFIFOsAndDevices(t *testing.T) {
	root, dir, _ := probeStore(t)
	for _, name := range []string{"results.json", "test.json", "fifo.txt"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.txt")); err != nil {
		t.Fatal(err)
	}
	h := NewServer(root)
	for range 3 { // a burst, as a browser reloading would send
		code, page := getWithin(t, h, "/", 5*time.Second)
		if code != http.StatusOK || !strings.Contains(page, `<td class="verdict">no results</td>`) {
			t.Fatalf("index with a FIFO results.json: %d", code)
		}
	}
	base := "/files/echo/" + filepath.Base(dir) + "/"
	for _, name := range []string{"fifo.txt", "results.json", "zero.txt"} {
		if code, _ := getWithin(t, h, base+name, 5*time.Second); code != http.StatusForbidden {
			t.Errorf("GET %s: %d, want 403", name, code)
		}
	}
	// The run page (the directory's index.html) is still served.
	if code, page := getWithin(t, h, base, 5*time.Second); code != http.StatusOK || !strings.Contains(page, "<h1>echo") {
		t.Errorf("run page: %d", code)
	}
}
