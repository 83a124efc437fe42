package cli

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/broadcast"
	"github.com/glomers/glomers/solutions/counter"
	"github.com/glomers/glomers/solutions/echo"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/challenge"
	"github.com/glomers/glomers/workbench/process"
)

// runRows never has more than jobs slots busy, never overlaps two heavy
// runs, runs every row exactly once, and leaves each result in its own
// row whatever order the runs finish in.
func TestRunRowsKeepsOrderAndLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		all, err := challenge.Select([]string{"all"})
		if err != nil {
			t.Fatal(err)
		}
		var rows []row
		for _, c := range all {
			for _, v := range c.Variants {
				rows = append(rows, row{c: c, variant: v})
			}
		}
		for _, jobs := range []int{1, 2, 3, 5} {
			rs := append([]row(nil), rows...)
			var mu sync.Mutex
			used, heavyNow, maxUsed, ran := 0, 0, 0, map[int]int{}
			var finished []int
			runRows(context.Background(), rs, jobs, func(_ context.Context, i int) row {
				w := 1
				if heavy(rs[i].c) {
					w = min(2, jobs)
				}
				mu.Lock()
				used += w
				maxUsed = max(maxUsed, used)
				if heavy(rs[i].c) {
					heavyNow++
					if heavyNow > 1 {
						t.Errorf("jobs %d: two heavy runs at once (row %d)", jobs, i)
					}
				}
				ran[i]++
				mu.Unlock()
				// Earlier rows take longer, so they finish after later ones.
				time.Sleep(time.Duration(len(rs)-i) * time.Second)
				mu.Lock()
				used -= w
				if heavy(rs[i].c) {
					heavyNow--
				}
				finished = append(finished, i)
				mu.Unlock()
				r := rs[i]
				r.verdict, r.note = "true", fmt.Sprint(i)
				return r
			})
			if maxUsed > jobs {
				t.Errorf("jobs %d: %d slots busy at once", jobs, maxUsed)
			}
			if jobs > 2 && maxUsed < 2 {
				t.Errorf("jobs %d: never ran two at once", jobs)
			}
			for i, r := range rs {
				if ran[i] != 1 || r.note != fmt.Sprint(i) || r.c.ID != rows[i].c.ID {
					t.Errorf("jobs %d: row %d ran %d times, holds %q (%s)", jobs, i, ran[i], r.note, r.c.ID)
				}
			}
			if jobs == 1 && !sort.IntsAreSorted(finished) {
				t.Errorf("jobs 1: runs finished in the order %v, not the catalogue's", finished)
			}
			if jobs > 1 && finished[0] == 0 {
				t.Errorf("jobs %d: the test meant the first row to finish late, order %v", jobs, finished)
			}
		}
	})
}

// Once the context ends no run starts, and the rows never started say so.
func TestRunRowsStopsStartingWhenInterrupted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		chosen, _ := challenge.Select([]string{"1", "3a", "3b", "4"})
		var rows []row
		for _, c := range chosen {
			rows = append(rows, row{c: c, variant: c.Variants[0]})
		}
		ctx, cancel := context.WithCancel(context.Background())
		runRows(ctx, rows, 2, func(ctx context.Context, i int) row {
			cancel()
			<-ctx.Done()
			r := rows[i]
			r.verdict = "interrupted"
			return r
		})
		var verdicts []string
		for _, r := range rows {
			verdicts = append(verdicts, r.verdict)
		}
		if got := strings.Join(verdicts, " "); got != "interrupted interrupted not run not run" {
			t.Errorf("verdicts %q", got)
		}
	})
}

// The same seed gives the same verdicts one run at a time and with the
// default number of jobs, and the scoreboard lists the runs in the
// catalogue's order either way. In-process nodes in virtual time.
func TestJobsDoNotChangeVerdicts(t *testing.T) {
	ids := []string{"1", "3a", "3b", "4"}
	nodes := map[string]process.Func{
		"echo":      workbench.InProcess(echo.Register),
		"broadcast": workbench.InProcess(func(n *node.Node) { broadcast.Register(n) }),
		"g-counter": workbench.InProcess(counter.Register),
	}
	scoreboard := func(jobs int) []string {
		var lines []string
		synctest.Test(t, func(t *testing.T) {
			var out bytes.Buffer
			o := &challengeOptions{store: t.TempDir(), seed: 11, tool: "glomers", stdout: &out, jobs: jobs, nodes: nodes}
			chosen, err := challenge.Select(ids)
			if err != nil {
				t.Fatal(err)
			}
			bins := map[string]string{}
			for b := range nodes {
				bins[b] = b
			}
			rows := o.runAll(context.Background(), o.plan(chosen, bins))
			for _, r := range rows {
				lines = append(lines, r.label()+" "+r.verdict)
				if r.verdict != "true" {
					t.Logf("%s: %s", r.label(), r.note)
				}
			}
		})
		return lines
	}
	one, many := scoreboard(1), scoreboard(defaultJobs())
	want := "1 true|3a true|3b true|4 true"
	if got := strings.Join(one, "|"); got != want {
		t.Errorf("--jobs 1: %s, want %s", got, want)
	}
	if got := strings.Join(many, "|"); got != want {
		t.Errorf("--jobs %d: %s, want %s", defaultJobs(), got, want)
	}
}
