package cli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/glomers/glomers/workbench/challenge"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workload"
)

// printScoreboard prints one narrow line per run (under 100 columns),
// then the targets each run missed — or, with wide, every target with its
// figure and each run's seed and store folder.
func printScoreboard(w io.Writer, rows []row, wide bool) {
	fmt.Fprintln(w, "\nScoreboard")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "challenge\tvalid?\tmsgs/op\tlatency ms\tofficial\tours\ttime")
	for _, r := range rows {
		took := "-"
		if r.took > 0 {
			took = fmt.Sprintf("%.0fs", r.took.Seconds())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.label(), r.verdict, figure(r.figures, challenge.MsgsPerOp, 2),
			orDash(r.latency), tally(r, r.official), tally(r, r.variant.Ours), took)
	}
	tw.Flush()
	fmt.Fprintln(w, "latency: broadcast's stable latency median/max, else client operations p50/p99")

	var details []string
	for _, r := range rows {
		if r.figures == nil {
			continue
		}
		for _, set := range []struct {
			name string
			ts   []challenge.Target
		}{{"official", r.official}, {"ours", r.variant.Ours}} {
			for _, t := range set.ts {
				mark, v := mark(t, r.figures)
				if wide || mark != "✓" {
					details = append(details, fmt.Sprintf("  %-14s %-8s %s %s: %s", r.label(), set.name, mark, t, v))
				}
			}
		}
		if wide {
			details = append(details, fmt.Sprintf("  %-14s seed %d, %s", r.label(), r.seed, orDash(r.dir)))
		}
	}
	if len(details) > 0 {
		if wide {
			fmt.Fprintln(w, "\nTargets and runs")
		} else {
			fmt.Fprintln(w, "\nTargets missed")
		}
		fmt.Fprintln(w, strings.Join(details, "\n"))
	}
	for _, r := range rows {
		if r.verdict != "true" && r.note != "" && r.figures == nil {
			fmt.Fprintf(w, "  %-14s %s: %s\n", r.label(), r.verdict, r.note)
		}
	}
}

// tally renders "✓ 3/3" (targets met of those set), "valid" when only
// validity counts, or "-" for a run that produced no figures.
func tally(r row, ts []challenge.Target) string {
	if r.figures == nil {
		return "-"
	}
	if len(ts) == 0 {
		if r.verdict == "true" {
			return "✓ valid"
		}
		return "✗ valid"
	}
	met := 0
	for _, t := range ts {
		if m, _ := mark(t, r.figures); m == "✓" {
			met++
		}
	}
	m := "✓"
	if met < len(ts) {
		m = "✗"
	}
	return fmt.Sprintf("%s %d/%d", m, met, len(ts))
}

// mark says whether a target is met (✓), missed (✗) or has no figure (?),
// with the figure.
func mark(t challenge.Target, figs map[challenge.Metric]float64) (string, string) {
	v, ok := figs[t.Metric]
	if !ok {
		return "?", "no figure"
	}
	if t.Met(v) {
		return "✓", strconv.FormatFloat(v, 'g', 4, 64)
	}
	return "✗", strconv.FormatFloat(v, 'g', 4, 64)
}

func figure(figs map[challenge.Metric]float64, m challenge.Metric, digits int) string {
	v, ok := figs[m]
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// latencyCell is the scoreboard's latency column.
func latencyCell(workloadName string, figs map[challenge.Metric]float64) string {
	a, b := challenge.OpP50, challenge.OpP99
	if workloadName == "broadcast" {
		a, b = challenge.StableMedian, challenge.StableMax
	}
	if _, ok := figs[a]; !ok {
		return ""
	}
	return ms(figs[a]) + "/" + ms(figs[b])
}

func ms(f float64) string {
	if f < 10 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', 0, 64)
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// figures reads the scoreboard's metrics from a results map and the
// history (client operation latencies, with the checkers' quantile rule).
func figures(res edn.Map, ops []history.Op) map[challenge.Metric]float64 {
	out := map[challenge.Metric]float64{}
	for _, m := range challenge.Metrics() {
		if path := m.Path(); path != nil {
			if v, ok := res.Path(path...); ok {
				if f, ok := number(v); ok {
					out[m] = f
				}
			}
		}
	}
	if q, ok := res.Path("workload", "stable-latencies"); ok {
		if qm, ok := q.(edn.Map); ok {
			for _, e := range qm {
				f, _ := number(e.Val)
				switch k, _ := number(e.Key); k {
				case 0.5:
					out[challenge.StableMedian] = f
				case 1:
					out[challenge.StableMax] = f
				}
			}
		}
	}
	var ls []int64
	notOK, served, pairs := 0, 0, 0
	for _, p := range history.Pairs(ops) {
		pairs++
		switch {
		case p.Complete != nil && p.Complete.Type == history.OK:
			ls = append(ls, p.Complete.Time-p.Invoke.Time)
			served++
		case p.Invoke.F != "crash": // kafka's crash op sends no request
			notOK++
			if p.Complete != nil && workload.RefusedForTheData(*p.Complete) {
				served++
			}
		}
	}
	out[challenge.NotOKRequests] = float64(notOK)
	if pairs > 0 {
		out[challenge.ServedFraction] = float64(served) / float64(pairs)
	}
	if len(ls) > 0 {
		slices.Sort(ls)
		out[challenge.OpP50] = float64(checker.Quantile(ls, 0.5)) / 1e6
		out[challenge.OpP99] = float64(checker.Quantile(ls, 0.99)) / 1e6
	}
	return out
}
