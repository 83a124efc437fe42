package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/challenge"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workload"
)

const challengeUsage = `Usage: glomers challenge ID... | all [options]

Runs Gossip Glomers challenges with their official parameters and prints a
scoreboard. Without --bin-dir it builds this repository's solutions first.

Options:
  --bin-dir DIR      use the binaries in DIR (named like cmd/: echo, unique-ids,
                     broadcast, ..., or maelstrom-echo, ...) instead of building ours
  --maelstrom PATH   run the same command lines through a real Maelstrom at PATH
  --store DIR        where test results go (default store)
  --seed N           seed for every test (default: from the clock)
  -h, --help         print this help

Challenges: ` + "1 2 3a 3b 3c 3d 3e 4 5a 5b 5c 6a 6b 6c\n"

// row is one line of the scoreboard.
type row struct {
	id, variant, verdict string
	figures              map[challenge.Metric]float64
	latency              string // client op latency quantiles
	official, ours       []challenge.Target
	note                 string
	dir                  string
	ok                   bool // valid and official targets met
}

func runChallengeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var ids []string
	binDir, maelstrom, store := "", "", "store"
	var seed string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, has := strings.Cut(a, "=")
		takes := func() bool {
			if has {
				return true
			}
			if i+1 < len(args) {
				i++
				val = args[i]
				return true
			}
			fmt.Fprintf(stderr, "glomers challenge: %s needs a value\n", name)
			return false
		}
		switch name {
		case "-h", "--help":
			fmt.Fprint(stdout, challengeUsage)
			return ExitValid
		case "--bin-dir":
			if !takes() {
				return ExitUsage
			}
			binDir = val
		case "--maelstrom":
			if !takes() {
				return ExitUsage
			}
			maelstrom = val
		case "--store":
			if !takes() {
				return ExitUsage
			}
			store = val
		case "--seed":
			if !takes() {
				return ExitUsage
			}
			seed = val
		default:
			if strings.HasPrefix(a, "-") {
				fmt.Fprintf(stderr, "glomers challenge: unknown option %q\n", a)
				return ExitUsage
			}
			ids = append(ids, a)
		}
	}
	chosen, err := challenge.Select(ids)
	if err != nil {
		fmt.Fprintf(stderr, "glomers challenge: %v\n", err)
		return ExitUsage
	}
	if maelstrom != "" {
		if _, err := os.Stat(maelstrom); err != nil {
			fmt.Fprintf(stderr, "glomers challenge: --maelstrom %s: %v\n", maelstrom, err)
			return ExitUsage
		}
	}
	bins, cleanup, err := binaries(ctx, chosen, binDir, stdout)
	defer cleanup()
	if err != nil {
		fmt.Fprintf(stderr, "glomers challenge: %v\n", err)
		return ExitInternal
	}
	implemented := map[string]bool{}
	for _, n := range workload.Names() {
		implemented[n] = true
	}
	var rows []row
	for _, c := range chosen {
		for _, v := range c.Variants {
			r := row{id: c.ID, variant: v.Name, official: c.Official, ours: v.Ours}
			bin, ok := bins[c.Binary]
			switch {
			case !ok:
				r.verdict, r.note = "skipped", "no solution binary "+c.Binary
			case maelstrom == "" && !implemented[c.Workload]:
				r.verdict, r.note = "skipped", "workload "+c.Workload+" not in this bench yet"
			default:
				label := c.ID
				if v.Name != "" {
					label += " (" + v.Name + ")"
				}
				fmt.Fprintf(stdout, "challenge %s: %s\n", label, c.Command("glomers", bin))
				if maelstrom != "" {
					r = runMaelstrom(ctx, maelstrom, c, v, bin, r)
				} else {
					r = runOurs(ctx, c, v, bin, store, seed, r)
				}
				fmt.Fprintf(stdout, "challenge %s: %s%s\n", label, r.verdict, suffix(r.note))
			}
			rows = append(rows, r)
			if ctx.Err() != nil {
				break
			}
		}
	}
	printScoreboard(stdout, rows)
	for _, r := range rows {
		if r.verdict != "skipped" && !r.ok {
			return ExitInvalid
		}
	}
	return ExitValid
}

func suffix(note string) string {
	if note == "" {
		return ""
	}
	return " (" + note + ")"
}

// runOurs runs one challenge variant in this bench, quietly: the full log
// goes to the store.
func runOurs(ctx context.Context, c challenge.Challenge, v challenge.Variant, bin, store, seed string, r row) row {
	args := c.TestArgs(bin)
	args = append(args, "--store", store)
	if seed != "" {
		args = append(args, "--seed", seed)
	}
	o, err := parseTest(args)
	if err != nil {
		r.verdict, r.note = "error", oneLine(err)
		return r
	}
	o.cfg.Env = v.Env
	start := time.Now()
	res, err := workbench.Run(ctx, o.cfg)
	if err != nil {
		r.verdict, r.note = "crashed", firstLine(err)
		if res != nil {
			r.dir = res.Dir
		}
		return r
	}
	r.dir = res.Dir
	r.verdict = res.Valid.String()
	r.figures = figures(res.Results)
	r.latency = latencyQuantiles(res.History)
	r.ok = res.Valid == checker.Valid && metAll(r.official, r.figures)
	r.note = fmt.Sprintf("%.1fs, seed %d", time.Since(start).Seconds(), res.Seed)
	return r
}

var (
	maelstromServers = regexp.MustCompile(`:servers\s*\{[^}]*:msgs-per-op\s+([0-9.]+)`)
	maelstromStable  = regexp.MustCompile(`(?s):stable-latencies\s*\{0 [0-9]+,\s*0\.5 ([0-9]+),.*?\s1 ([0-9]+)\}`)
)

// runMaelstrom runs the same command line through a real Maelstrom and
// reads the figures back from its results.edn.
func runMaelstrom(ctx context.Context, tool string, c challenge.Challenge, v challenge.Variant, bin string, r row) row {
	cmd := exec.CommandContext(ctx, tool, append([]string{"test"}, c.TestArgs(bin)...)...)
	cmd.Env = append(os.Environ(), v.Env...)
	cmd.Dir = filepath.Dir(tool)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		r.verdict = "true"
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		r.verdict = "false"
	case errors.As(err, &exit) && exit.ExitCode() == 2:
		r.verdict = "unknown"
	default:
		r.verdict, r.note = "crashed", oneLine(err)
		return r
	}
	r.figures = map[challenge.Metric]float64{}
	if m := maelstromServers.FindSubmatch(out); m != nil {
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		r.figures[challenge.MsgsPerOp] = f
	}
	if m := maelstromStable.FindSubmatch(out); m != nil {
		med, _ := strconv.ParseFloat(string(m[1]), 64)
		mx, _ := strconv.ParseFloat(string(m[2]), 64)
		r.figures[challenge.StableMedian], r.figures[challenge.StableMax] = med, mx
	}
	r.ok = r.verdict == "true" && metAll(r.official, r.figures)
	r.note = "real Maelstrom"
	return r
}

func metAll(ts []challenge.Target, figs map[challenge.Metric]float64) bool {
	for _, t := range ts {
		v, ok := figs[t.Metric]
		if !ok || !t.Met(v) {
			return false
		}
	}
	return true
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

// figures reads the scoreboard's metrics from a results map.
func figures(res edn.Map) map[challenge.Metric]float64 {
	out := map[challenge.Metric]float64{}
	if v, ok := res.Path("net", "servers", "msgs-per-op"); ok {
		if f, ok := number(v); ok {
			out[challenge.MsgsPerOp] = f
		}
	}
	if v, ok := res.Path("availability", "ok-fraction"); ok {
		if f, ok := number(v); ok {
			out[challenge.OKFraction] = f
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
	return out
}

// latencyQuantiles summarises client operation latencies (ok ops) as
// "p50/p99/max" in ms.
func latencyQuantiles(ops []history.Op) string {
	var ls []float64
	for _, p := range history.Pairs(ops) {
		if p.Complete != nil && p.Complete.Type == history.OK {
			ls = append(ls, float64(p.Complete.Time-p.Invoke.Time)/1e6)
		}
	}
	if len(ls) == 0 {
		return "-"
	}
	sort.Float64s(ls)
	q := func(p float64) float64 { return ls[min(len(ls)-1, int(float64(len(ls))*p))] }
	return fmt.Sprintf("%s/%s/%s", ms(q(0.5)), ms(q(0.99)), ms(ls[len(ls)-1]))
}

func ms(f float64) string {
	if f < 10 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', 0, 64)
}

func printScoreboard(w io.Writer, rows []row) {
	fmt.Fprintln(w, "\nScoreboard")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "challenge\tmode\tvalid?\tmsgs/op\tmedian\tmax\top latency p50/p99/max ms\tofficial targets\tour targets\tnote")
	for _, r := range rows {
		mode := r.variant
		if mode == "" {
			mode = "-"
		}
		fig := func(m challenge.Metric, digits int) string {
			v, ok := r.figures[m]
			if !ok {
				return "-"
			}
			return strconv.FormatFloat(v, 'f', digits, 64)
		}
		lat := r.latency
		if lat == "" {
			lat = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.id, mode, r.verdict,
			fig(challenge.MsgsPerOp, 2), fig(challenge.StableMedian, 0), fig(challenge.StableMax, 0), lat,
			targets(r.official, r.figures), targets(r.ours, r.figures), r.note)
	}
	tw.Flush()
}

// targets renders each target with a mark: ✓ met, ✗ missed.
func targets(ts []challenge.Target, figs map[challenge.Metric]float64) string {
	if len(ts) == 0 {
		return "valid"
	}
	var parts []string
	for _, t := range ts {
		mark := "?"
		if v, ok := figs[t.Metric]; ok {
			mark = "✗"
			if t.Met(v) {
				mark = "✓"
			}
		}
		parts = append(parts, mark+" "+t.String())
	}
	return strings.Join(parts, ", ")
}
