package report

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// probeStore is a store of one echo test, whose directory the caller
// fills with hostile files, next to a results file outside the store
// that must never be read.
func probeStore(t *testing.T) (root, testDir, outside string) {
	t.Helper()
	parent := t.TempDir()
	outside = filepath.Join(parent, "outside.json")
	if err := os.WriteFile(outside, []byte(`{"valid?": true, "net": {"servers": {"msgs-per-op": 777.777}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(parent, "store")
	s := newTestStore(t, root, "echo", start)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return root, s.Dir(), outside
}

// getWithin fetches target from h and fails the test if that takes
// longer than limit (a request hanging on a FIFO, say).
func getWithin(t *testing.T, h http.Handler, target string, limit time.Duration) (int, string) {
	t.Helper()
	type answer struct {
		code int
		body string
	}
	done := make(chan answer, 1)
	go func() {
		code, body := get(t, h, target)
		done <- answer{code, body}
	}()
	select {
	case a := <-done:
		return a.code, a.body
	case <-time.After(limit):
		t.Fatalf("GET %s still running after %v", target, limit)
		return 0, ""
	}
}

// TestServerIndexReadsInsideTheStore checks that the index reads a
// test's results.json through the store's os.Root: a symlink to a file
// outside the store is not followed, so its figures are not shown.
func TestServerIndexReadsInsideTheStore(t *testing.T) {
	root, dir, outside := probeStore(t)
	if err := os.Symlink(outside, filepath.Join(dir, "results.json")); err != nil {
		t.Fatal(err)
	}
	code, page := getWithin(t, NewServer(root), "/", 5*time.Second)
	if code != http.StatusOK {
		t.Fatalf("index: %d", code)
	}
	if strings.Contains(page, "777.777") || !strings.Contains(page, `<td class="verdict">no results</td>`) {
		t.Errorf("the index read results.json outside the store:\n%s", page)
	}
	if code, _ := get(t, NewServer(root), "/files/echo/"+filepath.Base(dir)+"/results.json"); code != http.StatusForbidden {
		t.Errorf("results.json symlinked out of the store: %d, want 403", code)
	}
}

// TestServerBoundsWhatItReads checks that a results.json far larger
// than any real one (a sparse 1 GB file) is neither read nor decoded:
// the index answers at once, shows the test without results, and
// allocates a small fraction of the file.
func TestServerBoundsWhatItReads(t *testing.T) {
	root, dir, _ := probeStore(t)
	f, err := os.Create(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	code, page := getWithin(t, NewServer(root), "/", 10*time.Second)
	runtime.ReadMemStats(&after)
	if code != http.StatusOK || !strings.Contains(page, `<td class="verdict">no results</td>`) {
		t.Errorf("index with a 1 GB results.json: %d", code)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
		t.Errorf("the index allocated %d MB for a 1 GB results.json", grown>>20)
	}
}

// TestServerTypesNodeText checks that text a node wrote is served as
// plain text, never as a page the browser would run.
func TestServerTypesNodeText(t *testing.T) {
	root, dir, _ := probeStore(t)
	if err := os.WriteFile(filepath.Join(dir, "node-logs", "n0.log"), []byte("<html><script>alert(1)</script>"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := httptestGet(NewServer(root), "/files/echo/"+filepath.Base(dir)+"/node-logs/n0.log")
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" || rec.Code != http.StatusOK {
		t.Errorf("node log served as %q (%d)", ct, rec.Code)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("headers %v", rec.Header())
	}
}

// TestServerDrawsWindowsOnRequest checks that the diagram windows not
// stored as files are drawn from the journal when asked for, with the
// same URL the run page links.
func TestServerDrawsWindowsOnRequest(t *testing.T) {
	parent := t.TempDir()
	s := newTestStore(t, filepath.Join(parent, "store"), "echo", start)
	var j []JournalEntry
	for i := int64(0); len(j) < 2*DiagramEventsPerWindow+500; i += 2 {
		j = append(j, exchange(i, "c1", "n0", `{"type":"echo","echo":"<b>","msg_id":1}`, `{"type":"echo_ok","echo":"<b>","in_reply_to":1}`)...)
	}
	for i := range j {
		j[i].Time = int64(i) * 1e6
	}
	if err := s.WriteJournal(j, []string{"n0"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteMessagesSVG(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	h := NewServer(filepath.Join(parent, "store"))
	base := "/files/echo/" + filepath.Base(s.Dir()) + "/"
	_, page := get(t, h, base)
	if !strings.Contains(page, `href="messages-002.svg"`) {
		t.Fatalf("the run page does not link messages-002.svg")
	}
	rec := httptestGet(h, base+"messages-002.svg")
	body := rec.Body.String()
	want := fmt.Sprintf("events %d–%d of %d", 2*DiagramEventsPerWindow+1, len(j), len(j))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/svg+xml" || !strings.Contains(body, want) {
		t.Errorf("messages-002.svg: %d %q, lacks %q", rec.Code, rec.Header().Get("Content-Type"), want)
	}
	if strings.Contains(body, "<b>") {
		t.Error("a body reached the diagram unescaped")
	}
	parseSVG(t, rec.Body.Bytes())
	if code, _ := get(t, h, base+"messages-003.svg"); code != http.StatusNotFound {
		t.Errorf("window past the end: %d, want 404", code)
	}
	if code, _ := get(t, h, "/files/echo/messages-001.svg"); code != http.StatusNotFound {
		t.Errorf("window of a directory with no journal: %d, want 404", code)
	}
}

// TestJournalFlood feeds the journal writer what a flooding node sends
// — 300,000 small messages, a body of 1 MB, one of 100 MB, then 1,100
// of almost 64 KiB — and
// checks that memory stays bounded (the writer keeps no event), that
// the file stops at its bound with a visible last line, that every
// stored body is at most MaxJournalBody, and that each diagram window
// drawn from it stays small.
func TestJournalFlood(t *testing.T) {
	s := newTestStore(t, t.TempDir(), "echo", start)
	jw, err := s.OpenJournal([]string{"n0", "n1"})
	if err != nil {
		t.Fatal(err)
	}
	// A quarter of the real bound keeps the test quick; the code path
	// is the same.
	jw.maxRaw = MaxJournalRawBytes / 4
	var peak uint64
	sample := func() {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	sample()
	base := peak
	small := json.RawMessage(`{"type":"gossip","value":12345}`)
	id := int64(0)
	add := func(body json.RawMessage) {
		jw.Add(JournalEntry{Time: id * 1000, ID: id, Src: "n0", Dest: "n1", Body: body})
		jw.Add(JournalEntry{Recv: true, Time: id*1000 + 500, ID: id, Src: "n0", Dest: "n1", Body: body})
		id++
	}
	for i := range 150_000 {
		add(small)
		if i%50_000 == 0 {
			sample()
		}
	}
	// A 1 MB body and a 100 MB one: each stored as a marker.
	add(json.RawMessage(`"` + strings.Repeat("y", 1<<20) + `"`))
	add(json.RawMessage(`"` + strings.Repeat("z", 100<<20) + `"`))
	sample()
	// Then 550 bodies just under MaxJournalBody pass the raw bound.
	near := json.RawMessage(`"` + strings.Repeat("w", MaxJournalBody-100) + `"`)
	for i := range 550 {
		add(near)
		if i%300 == 0 {
			sample()
		}
	}
	if err := jw.Close(); err != nil {
		t.Fatal(err)
	}
	events, written, why := jw.Summary()
	if events != 2*id || written >= events || why == "" {
		t.Errorf("summary: %d events, %d written, truncated %q", events, written, why)
	}
	t.Logf("heap in use: %d MB before, %d MB at the peak; journal %d of %d events", base>>20, peak>>20, written, events)
	if grown := peak - min(peak, base); grown > 32<<20 {
		t.Errorf("heap in use grew by %d MB while the journal was written", grown>>20)
	}
	info, err := os.Stat(s.Path(JournalFile))
	if err != nil || info.Size() > jw.maxBytes+1<<20 {
		t.Fatalf("journal file: %v, %v", info, err)
	}
	f, err := os.Open(s.Path(JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, maxJournalLine)
	var last string
	markers, lines := 0, 0
	for sc.Scan() {
		lines++
		if len(sc.Bytes()) > MaxJournalBody+bodyHead*6+200 {
			t.Fatalf("line %d is %d bytes", lines, len(sc.Bytes()))
		}
		if bytes.Contains(sc.Bytes(), []byte(`"glomers-truncated-body":`)) {
			markers++
		}
		last = sc.Text()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(last, `{"truncated":`) || !strings.Contains(last, fmt.Sprintf(`"events":%d`, events)) {
		t.Errorf("last line %.200q does not say the journal was truncated", last)
	}
	if markers != 4 || int64(lines) != written+1 {
		t.Errorf("%d lines with %d body markers, want %d lines and 4 markers", lines, markers, written+1)
	}
	if err := s.WriteMessagesSVG(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	root, err := openRoot(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	x, err := ReadMessagesIndex(root)
	if err != nil || x.Written != written || x.Truncated == "" {
		t.Fatalf("messages.json %+v, %v", x, err)
	}
	var svg strings.Builder
	// The window holding the 1 MB bodies: titles cut, the window small.
	if err := WriteMessagesFromJournal(&svg, root, int(300_000/DiagramEventsPerWindow)); err != nil {
		t.Fatal(err)
	}
	if svg.Len() > 4<<20 || !strings.Contains(svg.String(), "bytes in all)") {
		t.Errorf("window of 1 MB bodies: %d bytes, titles cut: %v", svg.Len(), strings.Contains(svg.String(), "bytes in all)"))
	}
	page := readFile(t, s.Path("index.html"))
	if !strings.Contains(page, `id="journal-truncated"`) {
		t.Error("the run page does not say the journal was truncated")
	}
}

// httptestGet answers a GET of target with h.
func httptestGet(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	return rec
}
