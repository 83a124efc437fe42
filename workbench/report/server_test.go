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
// invalid broadcast test with figures and plots, and a still-running
// g-set test without results, next to a file outside the store that
// must stay unreachable.
func storeWithTests(t *testing.T) string {
	t.Helper()
	parent := t.TempDir()
	if err := os.WriteFile(filepath.Join(parent, "secret.txt"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(parent, "store")
	for i, c := range []struct {
		name    string
		results edn.Map
	}{
		{"echo", edn.K("valid?", true)},
		{"broadcast", edn.K(
			"availability", edn.K("valid?", true, "ok-fraction", 0.98765),
			"net", edn.K("servers", edn.K("msgs-per-op", 23.456789), "valid?", true),
			"workload", edn.K("valid?", false, "lost-count", 3, "stable-latencies", edn.K(0, 0, 0.5, 310, 0.95, 480, 1, 900)),
			"valid?", false)},
		{"g-set", nil},
	} {
		s := newTestStore(t, root, c.name, start.Add(time.Duration(i)*time.Hour))
		if c.results != nil {
			if err := s.WriteResults(c.results); err != nil {
				t.Fatal(err)
			}
		}
		if c.name == "broadcast" {
			if err := s.WritePlots(echoHistory()); err != nil {
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

// indexRows splits the index page into its test rows.
func indexRows(page string) []string {
	parts := strings.Split(page, `<tr class="test"`)
	if len(parts) < 2 {
		return nil
	}
	return parts[1:]
}

func TestServerIndex(t *testing.T) {
	h := NewServer(storeWithTests(t))
	code, page := get(t, h, "/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	rows := indexRows(page)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3:\n%s", len(rows), page)
	}
	gset, broadcast, echo := rows[0], rows[1], rows[2]
	for _, c := range []struct {
		row  string
		want []string
	}{
		{gset, []string{">g-set<", `background: ` + colourPending, `<td class="verdict">no results</td>`, "2021-02-23 17:30:56 UTC"}},
		{broadcast, []string{
			">broadcast<", `background: ` + colourFail, `<td class="verdict">invalid</td>`, "2021-02-23 16:30:56 UTC",
			`<td class="num">23.457</td>`, `<td class="num">0.988</td>`, "min 0 · p50 310 · p95 480 · max 900 ms",
			`href="/files/broadcast/20210223T113056.288-0500/latency-quantiles.png"`,
			`<td class="plots"><a href="/files/broadcast/20210223T113056.288-0500/latency-raw.png">latency-raw</a><br>` +
				`<a href="/files/broadcast/20210223T113056.288-0500/latency-quantiles.png">latency-quantiles</a><br>` +
				`<a href="/files/broadcast/20210223T113056.288-0500/rate.png">rate</a><br></td>`,
			`href="/files/broadcast/20210223T113056.288-0500/latency-raw.png"`,
			`href="/files/broadcast/20210223T113056.288-0500/rate.png"`,
			`href="/files/broadcast/20210223T113056.288-0500/index.html"`,
			`href="/files/broadcast/20210223T113056.288-0500/node-logs/"`,
		}},
		{echo, []string{">echo<", `background: ` + colourOK, `<td class="verdict">valid</td>`, "2021-02-23 15:30:56 UTC",
			`href="/files/echo/20210223T103056.288-0500/results.edn"`, `href="/files/echo/20210223T103056.288-0500/jepsen.log"`}},
	} {
		for _, want := range c.want {
			if !strings.Contains(c.row, want) {
				t.Errorf("row lacks %s:\n%s", want, c.row)
			}
		}
	}
	if strings.Contains(page, ">latest<") || strings.Contains(page, ">current<") {
		t.Error("symlinks listed as tests")
	}
	if strings.Contains(page, `title="20210223T103056.288-0500">20210223T103056.288-0500<`) {
		t.Error("the start is shown as a raw stamp")
	}
}

// Every file of a run is linked from the index, whatever its name.
func TestServerIndexLinksEveryFile(t *testing.T) {
	root := t.TempDir()
	s := newTestStore(t, root, "echo", start)
	for _, name := range []string{"latency-quantiles.png", "messages-000.svg", "odd name.txt"} {
		if err := s.WriteFile(name, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	_, page := get(t, NewServer(root), "/")
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			name += "/"
		}
		link := `href="/files/echo/20210223T103056.288-0500/` + escapePath(name) + `"`
		if !strings.Contains(page, link) {
			t.Errorf("index does not link %s (%s)", e.Name(), link)
		}
	}
	if !strings.Contains(page, "odd%20name.txt") {
		t.Error("a file name with a space is not escaped")
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
	if !strings.Contains(page, `background: `+colourInfo+`">`) || !strings.Contains(page, `<td class="verdict">unknown</td>`) {
		t.Errorf("unknown validity not shown:\n%s", page)
	}
}

// A run's directory shows its index.html; the store's root directory
// sends the reader to the index.
func TestServerRunPage(t *testing.T) {
	h := NewServer(storeWithTests(t))
	code, page := get(t, h, "/files/broadcast/20210223T113056.288-0500/")
	if code != http.StatusOK || !strings.Contains(page, "Invalid: the analysis found errors") {
		t.Errorf("run directory: %d %q", code, page)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/files/", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/" {
		t.Errorf("GET /files/ = %d to %q, want a redirect to /", rec.Code, rec.Header().Get("Location"))
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
