package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/glomers/glomers/workbench/challenge"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/results"
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
	printWhyInvalid(w, rows)

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

// printWhyInvalid gives each run analysed and found not valid a line:
// why, in a few words (the run's explanation, see results.Summary), and
// the folder holding its explanation and pictures.
func printWhyInvalid(w io.Writer, rows []row) {
	var lines []string
	for _, r := range rows {
		if r.figures == nil || r.verdict == "true" {
			continue
		}
		why, where := "see its results", r.dir
		if len(r.reasons) > 0 {
			why = strings.Join(r.reasons, "; ")
		}
		if where == "" {
			where = r.note // a real Maelstrom's run: where its output is
		}
		lines = append(lines, fmt.Sprintf("  %-14s %s\n  %-14s %s", r.label(), why, "", orDash(where)))
	}
	if len(lines) > 0 {
		fmt.Fprintln(w, "\nWhy invalid (explain.json and index.html in each folder say more)")
		fmt.Fprintln(w, strings.Join(lines, "\n"))
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

// figures reads the scoreboard's metrics of one run: each from the
// run's summary when it holds it, else from the results map (the
// workload-specific figures, see challenge.Metric.FromResults).
func figures(sum results.Summary, res edn.Map) map[challenge.Metric]float64 {
	out := map[challenge.Metric]float64{}
	for _, m := range challenge.Metrics() {
		if f, ok := m.FromSummary(sum); ok {
			out[m] = f
		} else if f, ok := m.FromResults(res); ok {
			out[m] = f
		}
	}
	return out
}
