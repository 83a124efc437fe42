package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/nemesis"
)

// TestServeShowsWhyBroadcastLostValues drives a headless Chromium over
// the stored run of a broadcast node that gossips each value once and
// never re-sends, under partitions: the run's page explains the lost
// values, naming the partitions, and its message diagram draws the
// messages the partitions dropped as red arrows ending in ×.
func TestServeShowsWhyBroadcastLostValues(t *testing.T) {
	browser, ok := findBrowser()
	if !ok {
		t.Skipf("no headless Chromium on PATH (looked for %s; set GLOMERS_BROWSER to another)", strings.Join(browserNames, ", "))
	}
	root := filepath.Join(t.TempDir(), "store")
	var logs bytes.Buffer
	var dir string
	synctest.Test(t, func(t *testing.T) {
		res, err := workbench.Run(context.Background(), workbench.Config{
			Workload: "broadcast", Node: workbench.InProcess(faulty.NoRetryBroadcast), NodeIDs: workbench.NodeIDs(5),
			TimeLimit: 6 * time.Second, Rate: 10, Latency: 20 * time.Millisecond,
			Nemesis: []string{nemesis.FaultPartition}, NemesisInterval: time.Second, Seed: 7, StoreRoot: root, Log: &logs,
		})
		if err != nil {
			t.Fatalf("run: %v\n%s", err, logs.String())
		}
		if res.Valid != checker.Invalid {
			t.Fatalf("the never-re-sending broadcast was judged %v", res.Valid)
		}
		rel, _ := filepath.Rel(root, res.Dir)
		dir = filepath.ToSlash(rel)
	})
	url := startServe(t, "--port", "0", "--store", root) + "files/" + dir + "/"

	ctx := browserContext(t, browser)

	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("explanation"))); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	why, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#explanation").innerText`))
	if err != nil || !strings.Contains(why, "partition") || !strings.Contains(why, "lost") {
		t.Errorf("the explanation %q (%v) does not name the lost values and the partitions", why, err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"messages.svg")); err != nil {
		t.Fatal(err)
	}
	type drops struct {
		Count, Partition, Visible int
		Title                     string
	}
	d, err := chromedp.Run(ctx, chromedp.Evaluate[drops](`(() => { const ds = [...document.querySelectorAll("g.msg.drop")];
		const p = ds.filter(g => g.dataset.drop === "partition");
		const v = ds.filter(g => { const r = g.getBoundingClientRect(); return r.width > 0 || r.height > 0; });
		return {Count: ds.length, Partition: p.length, Visible: v.length, Title: p.length ? p[0].querySelector("title").textContent : ""}; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Partition == 0 || d.Visible != d.Count || !strings.Contains(d.Title, "never arrived (partition)") {
		t.Errorf("messages.svg drops %+v: want visible red arrows for the messages partitions dropped", d)
	}
}
