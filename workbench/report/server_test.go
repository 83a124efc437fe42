package report

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/edn"
)

const secret = "outside-the-store-secret"

// storeWithTests makes a store holding an older valid echo test, a newer
// invalid broadcast test, and a still-running g-set test without
// results, next to a file outside the store that must stay unreachable.
func storeWithTests(t *testing.T) string {
	t.Helper()
	parent := t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "secret.txt"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(parent, "store")
	for i, c := range []struct {
		name  string
		valid any
	}{{"echo", true}, {"broadcast", false}, {"g-set", nil}} {
		s := newTestStore(t, root, c.name, start.Add(time.Duration(i)*time.Hour))
		if c.valid != nil {
			if err := s.WriteResults(edn.K("valid?", c.valid)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink inside the store that points outside it.
	if err := os.Symlink(filepath.Join(parent, "secret.txt"), filepath.Join(root, "escape.txt")); err != nil {
		t.Fatal(err)
	}
	return root
}

func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestServerIndex(t *testing.T) {
	h := NewServer(storeWithTests(t))
	code, page := get(t, h, "/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	gset := strings.Index(page, "20210223T123056.288-0500")
	broadcast := strings.Index(page, "20210223T113056.288-0500")
	echo := strings.Index(page, "20210223T103056.288-0500")
	if gset < 0 || broadcast < 0 || echo < 0 || !(gset < broadcast && broadcast < echo) {
		t.Errorf("tests not listed newest first (g-set %d, broadcast %d, echo %d):\n%s", gset, broadcast, echo, page)
	}
	for _, want := range []string{
		`<tr style="background: ` + colourFail + `">`, // broadcast invalid
		`<tr style="background: ` + colourOK + `">`,   // echo valid
		`<tr style="background: ` + colourPending + `">`,
		`href="/files/echo/20210223T103056.288-0500/results.edn"`,
		`no results`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index lacks %s", want)
		}
	}
	if strings.Contains(page, ">latest<") || strings.Contains(page, ">current<") {
		t.Error("symlinks listed as tests")
	}
}

func TestServerUnknownValidity(t *testing.T) {
	root := t.TempDir()
	s := newTestStore(t, root, "kafka", start)
	if err := s.WriteResults(edn.K("valid?", edn.Keyword("unknown"))); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, page := get(t, NewServer(root), "/")
	if !strings.Contains(page, `<tr style="background: `+colourInfo+`">`) || !strings.Contains(page, "<td>unknown</td>") {
		t.Errorf("unknown validity not shown:\n%s", page)
	}
}

func TestServerFiles(t *testing.T) {
	h := NewServer(storeWithTests(t))
	code, body := get(t, h, "/files/echo/20210223T103056.288-0500/results.edn")
	if code != http.StatusOK || body != "{:valid? true}\n" {
		t.Errorf("results.edn: %d %q", code, body)
	}
	// Symlinks inside the store are followed: echo/latest is the echo
	// test, and the root's latest is the last test closed (g-set).
	code, body = get(t, h, "/files/echo/latest/results.edn")
	if code != http.StatusOK || body != "{:valid? true}\n" {
		t.Errorf("echo/latest/results.edn: %d %q", code, body)
	}
	if code, _ = get(t, h, "/files/latest/jepsen.log"); code != http.StatusOK {
		t.Errorf("latest/jepsen.log: %d", code)
	}
	if code, _ = get(t, h, "/files/latest/results.edn"); code != http.StatusNotFound {
		t.Errorf("latest/results.edn of a test without results: %d, want 404", code)
	}
	code, body = get(t, h, "/files/echo/")
	if code != http.StatusOK || !strings.Contains(body, "20210223T103056.288-0500") {
		t.Errorf("directory listing: %d %q", code, body)
	}
}

func TestServerRefusesEscapes(t *testing.T) {
	h := NewServer(storeWithTests(t))
	for _, target := range []string{
		"/files/../secret.txt",
		"/files/%2e%2e/secret.txt",
		"/files/echo/../../secret.txt",
		"/files/..%2fsecret.txt",
		"/files/escape.txt", // a symlink leading out of the store
		"/../secret.txt",
	} {
		code, body := get(t, h, target)
		if code == http.StatusOK || strings.Contains(body, secret) {
			t.Errorf("GET %s = %d %q: escaped the store", target, code, body)
		}
	}
	if code, _ := get(t, h, "/files/escape.txt"); code != http.StatusForbidden {
		t.Errorf("symlink out of the store: %d, want 403", code)
	}
	// The handler refuses ".." itself, even where no mux cleans the path.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/files/x", nil)
	req.URL.Path = "/files/../secret.txt"
	serveFile(rec, req, filepath.Join(filepath.Dir(filepath.Dir(t.TempDir())), "nowhere"))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("serveFile with .. = %d, want 400", rec.Code)
	}
}

func TestServerMissingStore(t *testing.T) {
	code, page := get(t, NewServer(filepath.Join(t.TempDir(), "none")), "/")
	if code != http.StatusOK || !strings.Contains(page, "No tests stored yet") {
		t.Errorf("missing store: %d %q", code, page)
	}
}
