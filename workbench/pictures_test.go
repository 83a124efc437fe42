package workbench_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/report"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// A broadcast that never re-sends, under partitions: the stored diagram
// draws the gossip the partitions dropped and shades the partitions on
// the journal's clock, so every partition drop falls inside a shaded
// partition that cut its sender off from its receiver; the timeline's
// columns are the nodes.
func TestStoredPicturesShowWhatWasLost(t *testing.T) {
	store := t.TempDir()
	// Nodes slow to start (1.5 s in virtual time, as a JVM might be), so
	// the journal's clock runs well ahead of the history's.
	slow := func(n *node.Node) {
		time.Sleep(1500 * time.Millisecond)
		faulty.NoRetryBroadcast(n)
	}
	cfg := workbench.Config{
		Workload: "broadcast", Node: workbench.InProcess(slow), NodeIDs: workbench.NodeIDs(3),
		Concurrency: 3, TimeLimit: 10 * time.Second, Rate: 10, Latency: 50 * time.Millisecond,
		Nemesis: []string{"partition"}, NemesisInterval: 2 * time.Second, Seed: 3, StoreRoot: store,
	}
	res := workbenchtest.Run(t, cfg)
	if res.Valid == checker.Valid {
		t.Fatal("a broadcast that never re-sends passed under partitions; the test proves nothing")
	}
	dir := res.Dir
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	x, err := report.ReadMessagesIndex(root.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Faults) == 0 {
		t.Fatal("messages.json holds no faults")
	}
	if x.Offset != res.Startup.Nanoseconds() || res.Startup < time.Second {
		t.Errorf("messages.json: offset %d (startup %v), faults %+v", x.Offset, res.Startup, x.Faults)
	}
	var partitionDrops int
	err = report.ReadJournal(dir, func(e report.JournalEntry) bool {
		if e.Drop != netsim.DropPartition {
			return true
		}
		partitionDrops++
		for _, f := range x.Faults {
			if f.Kind == "partition" && e.Time >= f.Start && (f.End < 0 || e.Time <= f.End) {
				return true
			}
		}
		t.Errorf("%s → %s dropped by a partition at %v (journal clock), outside every shaded partition %+v",
			e.Src, e.Dest, time.Duration(e.Time), x.Faults)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if partitionDrops == 0 {
		t.Fatal("no message dropped by a partition")
	}
	// The faults on the history's clock are explain's, shifted by the setup.
	want := explain.FaultsOf(res.History)
	if len(want) != len(x.Faults) || x.Faults[0].Start != want[0].Start+x.Offset {
		t.Errorf("faults %+v, explain's %+v", x.Faults, want)
	}

	// Every partition drop is drawn once, as a red arrow ending in ×, in
	// the window that holds it (messages.svg, or one serve draws).
	dropRE := regexp.MustCompile(`<g class="msg drop[^"]*" data-v="[^"]*" data-drop="partition"><title>[^<]* never arrived \(partition\): `)
	drawn := 0
	for i := range x.Slices() {
		var svg bytes.Buffer
		if err := report.WriteMessagesFromJournal(&svg, root.FS(), i); err != nil {
			t.Fatal(err)
		}
		drawn += len(dropRE.FindAll(svg.Bytes(), -1))
		if i == 0 {
			if stored, err := os.ReadFile(filepath.Join(dir, "messages.svg")); err != nil || !bytes.Equal(stored, svg.Bytes()) {
				t.Errorf("messages.svg is not the first window drawn from the journal (%v)", err)
			}
		}
	}
	if drawn != partitionDrops {
		t.Errorf("%d partition drops drawn, the journal holds %d", drawn, partitionDrops)
	}
	t.Logf("%d partition drops; the history's clock started %v into the network's", partitionDrops, res.Startup)
	page, err := os.ReadFile(filepath.Join(dir, "timeline.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range append(cfg.NodeIDs, "nemesis") {
		if !strings.Contains(string(page), `">`+n+`</div>`) {
			t.Errorf("timeline.html has no column group %s", n)
		}
	}
	if !strings.Contains(string(page), `<div class="fault partition"`) {
		t.Error("timeline.html shades no partition")
	}
}
