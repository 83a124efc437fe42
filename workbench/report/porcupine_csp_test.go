package report

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// writePorcupinePage writes porcupine's visualization of a register
// history that is not linearizable (a read of a value overwritten before
// it began) as dir/name.
func writePorcupinePage(t *testing.T, dir, name string) {
	t.Helper()
	model := porcupine.Model{
		Init: func() any { return 0 },
		Step: func(state, input, output any) (bool, any) {
			if in := input.(int); in >= 0 {
				return true, in // write in
			}
			return output.(int) == state.(int), state // read
		},
		DescribeOperation: func(input, output any) string {
			if in := input.(int); in >= 0 {
				return "write"
			}
			return "read"
		},
	}
	ops := []porcupine.Operation{
		{ClientId: 0, Input: 1, Call: 0, Output: 0, Return: 10},
		{ClientId: 1, Input: 2, Call: 20, Output: 0, Return: 30},
		{ClientId: 0, Input: -1, Call: 40, Output: 1, Return: 50},
	}
	res, info := porcupine.CheckOperationsVerbose(model, ops, time.Second)
	if res != porcupine.Illegal {
		t.Fatalf("porcupine: %v, want illegal", res)
	}
	var buf bytes.Buffer
	if err := porcupine.Visualize(model, info, &buf); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A porcupine visualization is served with its own script allowed by
// hash, and only there: another page keeps the strict policy.
func TestLinearizabilityPagePolicy(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "lin-kv", "20260101T000000")
	writePorcupinePage(t, run, "linearizability-0.html")
	writePorcupinePage(t, run, "other.html")
	h := NewServer(root)
	get := func(name string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/files/lin-kv/20260101T000000/"+name, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", name, rec.Code)
		}
		return rec.Header().Get("Content-Security-Policy")
	}
	b, _ := os.ReadFile(filepath.Join(run, "linearizability-0.html"))
	m := inlineScript.FindSubmatch(b)
	if m == nil {
		t.Fatal("porcupine's page has no inline script")
	}
	want := scriptHash(string(m[1]))
	csp := get("linearizability-0.html")
	if !strings.Contains(csp, "script-src "+want+" ") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("linearizability page policy %q lacks its script's hash %s or the strict defaults", csp, want)
	}
	if strings.Count(csp, "unsafe-inline") != strings.Count(ContentSecurityPolicy, "unsafe-inline") {
		t.Errorf("policy %q allows more inline content than %q", csp, ContentSecurityPolicy)
	}
	if other := get("other.html"); other != ContentSecurityPolicy {
		t.Errorf("another page's policy %q, want the strict one", other)
	}
}

// In a headless browser, porcupine's page draws its history under the
// policy the server sends (skipped when no Chromium is installed).
func TestLinearizabilityPageRendersInBrowser(t *testing.T) {
	var browser string
	for _, name := range []string{"chromium-headless-shell", "chromium", "headless_shell", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("no headless Chromium on PATH")
	}
	root := t.TempDir()
	writePorcupinePage(t, filepath.Join(root, "lin-kv", "20260101T000000"), "linearizability-0.html")
	srv := httptest.NewServer(NewServer(root))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=2000", "--dump-dom", srv.URL+"/files/lin-kv/20260101T000000/linearizability-0.html").Output()
	if err != nil {
		t.Fatalf("%s: %v", browser, err)
	}
	// render() fills #canvas with an SVG naming the operations.
	_, canvas, ok := strings.Cut(string(out), `id="canvas"`)
	if !ok || !strings.Contains(canvas, "<svg") || !strings.Contains(canvas, "write") {
		t.Errorf("porcupine's script did not draw the history under the server's policy:\n%.2000s", canvas)
	}
}
