package cli

import (
	"bytes"
	"context"
	"image"
	"image/color"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/internal/faulty"
)

// browserNames are the headless Chromium builds the browser test looks
// for on PATH, Debian's first (packages chromium-headless-shell and
// chromium); GLOMERS_BROWSER names another.
var browserNames = []string{
	"chromium-headless-shell", "chromium", "headless_shell", "headless-shell",
	"chromium-browser", "google-chrome", "google-chrome-stable", "chrome",
}

func findBrowser() (string, bool) {
	if p := os.Getenv("GLOMERS_BROWSER"); p != "" {
		if found, err := exec.LookPath(p); err == nil {
			return found, true
		}
	}
	for _, name := range browserNames {
		if found, err := exec.LookPath(name); err == nil {
			return found, true
		}
	}
	return "", false
}

func echoNode(n *node.Node) {
	n.Handle("echo", func(msg node.Message) error {
		var body struct {
			Echo any `json:"echo"`
		}
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		return n.Reply(msg, map[string]any{"type": "echo_ok", "echo": body.Echo})
	})
}

// storeOfTwoRuns stores a valid echo run and an invalid one (a node that
// mangles every seventh echo), run in-process in virtual time. Both run
// in one synctest bubble, whose clock moves on between them, so their
// directories get different start times.
func storeOfTwoRuns(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "store")
	var logs bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		for _, c := range []struct {
			node func(*node.Node)
			want checker.Validity
		}{{echoNode, checker.Valid}, {faulty.MangledEcho, checker.Invalid}} {
			res, err := workbench.Run(context.Background(), workbench.Config{
				Workload: "echo", Node: workbench.InProcess(c.node), NodeIDs: workbench.NodeIDs(1),
				TimeLimit: 5 * time.Second, Rate: 10, Seed: 3, StoreRoot: root, Log: &logs,
			})
			if err != nil {
				t.Fatalf("run: %v\n%s", err, logs.String())
			}
			if res.Valid != c.want {
				t.Fatalf("run judged %v, want %v", res.Valid, c.want)
			}
			time.Sleep(time.Second)
		}
	})
	return root
}

// TestServeInBrowser drives a headless Chromium through `glomers serve`
// over a store with a valid and an invalid run: the index lists both
// verdicts, a run's page shows its verdict and its plots (each image
// loaded with a non-zero natural size), its timeline opens with one box
// per operation, and its message diagram draws arrows.
func TestServeInBrowser(t *testing.T) {
	browser, ok := findBrowser()
	if !ok {
		t.Skipf("no headless Chromium on PATH (looked for %s; set GLOMERS_BROWSER to another): "+
			"on Debian, apt-get install chromium-headless-shell", strings.Join(browserNames, ", "))
	}
	root := storeOfTwoRuns(t)
	url := startServe(t, "--port", "0", "--store", root)

	ctx := browserContext(t, browser)

	// The index: both runs, with their verdicts.
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("tests"))); err != nil {
		t.Fatalf("%s (with %s): %v", url, browser, err)
	}
	type row struct{ Workload, Started, Verdict, Href string }
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]row](`[...document.querySelectorAll("tr.test")].map(r => ({
		Workload: r.cells[0].innerText, Started: r.cells[1].innerText,
		Verdict: r.querySelector(".verdict").innerText, Href: r.querySelector("a").href}))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Verdict != "invalid" || rows[1].Verdict != "valid" {
		t.Fatalf("index rows %+v, want the invalid run then the valid one", rows)
	}
	for _, r := range rows {
		if r.Workload != "echo" || !strings.HasPrefix(r.Started, "2000-01-01 00:00:") {
			t.Errorf("row %+v: want workload echo and a readable start", r)
		}
	}

	// The invalid run's page: verdict, results, plots.
	if err := chromedp.Do(ctx, chromedp.Navigate(rows[0].Href), chromedp.WaitVisible(chromedp.ID("verdict"))); err != nil {
		t.Fatal(err)
	}
	verdict, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#verdict").innerText`))
	if err != nil || !strings.HasPrefix(verdict, "Invalid") {
		t.Errorf("run page verdict %q, %v", verdict, err)
	}
	// Why, before the results: at least one finding, visible, above the
	// results map.
	type why struct {
		Findings      int
		Text          string
		AboveResults  bool
		Width, Height float64
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[why](`(() => { const f = document.querySelectorAll("#explanation .finding");
		const r = f.length ? f[0].getBoundingClientRect() : {width: 0, height: 0};
		const results = [...document.querySelectorAll("h2")].find(h => h.innerText === "Results");
		return {Findings: f.length, Text: f.length ? f[0].innerText : "", Width: r.width, Height: r.height,
			AboveResults: !!results && f.length > 0 && (f[0].compareDocumentPosition(results) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0}; })()`))
	if err != nil || w.Findings == 0 || w.Width <= 0 || w.Height <= 0 || !w.AboveResults || !strings.Contains(w.Text, "Please echo") {
		t.Errorf("the run page's explanation %+v (%v): want a visible finding that shows a wrong echo, above the results", w, err)
	}
	openSections, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("details[open] summary")].map(s => s.innerText)`))
	if err != nil || len(openSections) != 1 || !strings.HasPrefix(openSections[0], ":workload") {
		t.Errorf("unfolded sections %q (%v), want :workload alone", openSections, err)
	}
	type img struct {
		Src           string
		Complete      bool
		Width, Height int
	}
	imgs, err := chromedp.Run(ctx, chromedp.Evaluate[[]img](`[...document.images].map(i => ({
		Src: i.getAttribute("src"), Complete: i.complete, Width: i.naturalWidth, Height: i.naturalHeight}))`))
	if err != nil {
		t.Fatal(err)
	}
	var srcs []string
	for _, im := range imgs {
		srcs = append(srcs, im.Src)
		if !im.Complete || im.Width == 0 || im.Height == 0 {
			t.Errorf("plot %s did not load: %+v", im.Src, im)
		}
	}
	if strings.Join(srcs, " ") != "latency-raw.png latency-quantiles.png rate.png" {
		t.Errorf("plots %q", srcs)
	}
	// The page as painted: the verdict banner's pink must be on screen.
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "run-page.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if !hasColour(t, shot, color.RGBA{0xFE, 0xB5, 0xDA, 0xff}) {
		t.Error("the screenshot of the run page shows no pink verdict banner")
	}

	// The timeline, reached by its link.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("timeline")), chromedp.WaitVisible(chromedp.CSS(".op"))); err != nil {
		t.Fatalf("timeline: %v", err)
	}
	type box struct {
		Count         int
		Width, Height float64
		Title         string
	}
	tl, err := chromedp.Run(ctx, chromedp.Evaluate[box](`(() => { const ops = document.querySelectorAll(".op"); const r = ops[0].getBoundingClientRect();
		return {Count: ops.length, Width: r.width, Height: r.height, Title: document.title}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if tl.Title != "Timeline" || tl.Count < 40 || tl.Width <= 0 || tl.Height <= 0 {
		t.Errorf("timeline %+v: want dozens of visible operation boxes", tl)
	}

	// The message diagram.
	if err := chromedp.Do(ctx, chromedp.Navigate(strings.TrimSuffix(rows[0].Href, "/")+"/messages.svg")); err != nil {
		t.Fatal(err)
	}
	arrows, err := chromedp.Run(ctx, chromedp.Evaluate[box](`(() => { const r = document.documentElement.getBoundingClientRect();
		return {Count: document.querySelectorAll("g.msg").length, Width: r.width, Height: r.height}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if arrows.Count < 10 || arrows.Width <= 0 || arrows.Height <= 0 {
		t.Errorf("messages.svg: %+v, want arrows drawn", arrows)
	}
	// Clicking the first echo request (the init exchange comes before
	// it) follows its text: the request and its reply light up, nothing
	// else.
	marked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		const g = [...document.querySelectorAll("g.msg")].find(g => g.querySelector("title").textContent.includes('"type":"echo"'));
		if (!g) return false;
		g.querySelector("text").id = "first-echo";
		return true; })()`))
	if err != nil || !marked {
		t.Fatalf("messages.svg has no echo request to click (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("first-echo"))); err != nil {
		t.Fatal(err)
	}
	type follow struct {
		Hits   []string
		Banner string
	}
	f, err := chromedp.Run(ctx, chromedp.Evaluate[follow](`({Hits: [...document.querySelectorAll("g.msg.hit title")].map(t => t.textContent),
		Banner: document.getElementById("follow").textContent})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Hits) != 2 || !strings.Contains(f.Hits[0], `"type":"echo"`) || !strings.Contains(f.Hits[1], `"type":"echo_ok"`) ||
		!strings.HasPrefix(f.Banner, "Following Please·echo·") {
		t.Errorf("after a click on the first echo: %+v, want it and its reply followed", f)
	}
}

// browserContext starts a headless Chromium at browser for the rest of
// the test, with a 1280×1000 window and a minute to do its work.
func browserContext(t *testing.T, browser string) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(1280, 1000))...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// hasColour reports whether an encoded screenshot has a pixel of
// exactly c.
func hasColour(t *testing.T, shot []byte, c color.RGBA) bool {
	t.Helper()
	im, _, err := image.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot does not decode: %v", err)
	}
	b := im.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := im.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				return true
			}
		}
	}
	return false
}
