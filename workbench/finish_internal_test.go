package workbench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSayIfLarge checks that a run's folder over largeRun is reported
// with its size and how to delete it, and a small one is not.
func TestSayIfLarge(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "history.edn"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(largeRun - 1<<20); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := &run{log: newLogger(&out), cfg: Config{StoreRoot: "store"}}
	r.sayIfLarge(dir)
	if out.Len() != 0 {
		t.Errorf("a %d MB folder was reported: %q", (largeRun-1<<20)>>20, out.String())
	}
	if err := f.Truncate(largeRun + 1<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r.sayIfLarge(dir)
	for _, want := range []string{"holds 21 MB", "rm -rf " + dir, "rm -rf store"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report %q lacks %q", out.String(), want)
		}
	}
}
