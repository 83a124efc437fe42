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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/challenge"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/internal/suggest"
	"github.com/glomers/glomers/workbench/process"
	"github.com/glomers/glomers/workbench/workload/all"
)

const challengeUsageHead = `Usage: glomers challenge ID... | all [options]

Runs Gossip Glomers challenges with their official command lines and prints a
scoreboard: the verdict, messages per operation, latencies, the official
targets and this project's own. Without --bin-dir it first builds this
repository's solutions into bin/. The exit status is 0 when every challenge
run is valid and meets its official targets, 1 when one is not (a missing
binary counts, except an extra's that was not named), 130 when interrupted.

Options:
`

// ExitInterrupted is the exit status after Ctrl-C (128 + SIGINT).
const ExitInterrupted = 130

// challengeOptions is the parsed `glomers challenge` command line.
type challengeOptions struct {
	ids                      []string
	chosen                   []challenge.Challenge // what ids select, in the catalogue's order
	binDir, maelstrom, store string
	seed                     uint64
	wide, help               bool
	jobs                     int // runs at once; 0: defaultJobs
	total                    int // rows planned
	flags                    *pflag.FlagSet
	stdout                   io.Writer
	terminal                 bool   // stdout is a terminal: live progress lines
	tool                     string // how the printed command lines call glomers
	modRoot                  string // the repository, when running inside it
	// nodes, when set (by tests), runs these binaries' challenges with
	// in-process nodes instead, keyed by binary name.
	nodes map[string]process.Func
}

func parseChallenge(args []string) (*challengeOptions, error) {
	o := &challengeOptions{}
	fs := pflag.NewFlagSet("challenge", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVar(&o.binDir, "bin-dir", "", "use the binaries in `DIR` (named like cmd/: echo, unique-ids, broadcast, …, or like the challenge pages: maelstrom-echo, …) instead of building ours")
	fs.StringVar(&o.maelstrom, "maelstrom", "", "run the same command lines through a real Maelstrom at `PATH`")
	fs.StringVar(&o.store, "store", workbench.DefaultStoreRoot, "where test results go")
	setArg(fs, "store", "DIR")
	fs.Uint64Var(&o.seed, "seed", 0, "seed for every test (default: from the clock; each run prints its own)")
	setArg(fs, "seed", "N")
	fs.IntVarP(&o.jobs, "jobs", "j", 0, "run up to `N` challenge runs at once (default: cores + 1, and 1 with --maelstrom); heavy runs (--rate 1000) never overlap each other")
	fs.BoolVar(&o.wide, "wide", false, "also list every target with its figure, and each run's seed and store folder")
	fs.BoolVarP(&o.help, "help", "h", false, "print this help")
	o.flags = fs
	if err := fs.Parse(args); err != nil {
		return o, flagError(fs, err)
	}
	o.ids = fs.Args()
	if o.help {
		return o, nil
	}
	if o.jobs < 0 {
		return o, fmt.Errorf("--jobs must be at least 1, got %d", o.jobs)
	}
	chosen, err := challenge.Select(o.ids)
	if err != nil {
		return o, challengeIDError(o.ids, err)
	}
	o.chosen = chosen
	return o, nil
}

// challengeIDError adds to Select's error the id nearest to the first
// unknown one, if one is near ("unknown challenge 3f (known: …); did you
// mean 3a?").
func challengeIDError(ids []string, err error) error {
	known := append(challenge.IDs(), "all", "official", "extras")
	for _, id := range ids {
		if slices.Contains(known, strings.ToLower(id)) {
			continue
		}
		if s, ok := suggest.Closest(id, known); ok {
			return fmt.Errorf("%w; did you mean %s?", err, s)
		}
		break
	}
	return err
}

func challengeUsage(o *challengeOptions) string {
	var b strings.Builder
	b.WriteString(challengeUsageHead)
	writeOptions(&b, o.flags)
	b.WriteString("\nChallenges: " + strings.Join(challenge.IDs(), " ") +
		"\n(official: fly.io's list; extras: the ones beyond it; all: both)\n")
	return b.String()
}

// row is one line of the scoreboard.
type row struct {
	c        challenge.Challenge
	variant  challenge.Variant
	bin      string // the binary run, "" when missing
	verdict  string // "true", "false", "unknown", "missing", "crashed", "error", "not run"
	figures  map[challenge.Metric]float64
	latency  string // p50/p99 of client operations, or broadcast's stable latencies
	note     string
	reasons  []string // why an analysed run is not valid (results.Summary.Reasons)
	dir      string
	seed     uint64
	took     time.Duration
	official []challenge.Target // the challenge's official targets, relative ones resolved
	ok       bool               // valid and official targets met
}

func (r row) label() string {
	if r.variant.Name == "" {
		return r.c.ID
	}
	return r.c.ID + " " + r.variant.Name
}

func runChallengeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseChallenge(args)
	if o.help {
		fmt.Fprint(stdout, challengeUsage(o))
		return ExitValid
	}
	if err != nil {
		return usageError(stderr, "challenge", err)
	}
	chosen := o.chosen
	if err := o.resolvePaths(); err != nil {
		return usageError(stderr, "challenge", err)
	}
	o.stdout, o.terminal = stdout, isTerminal(stdout)

	bins, err := o.binaries(ctx, chosen)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "glomers challenge: interrupted while building the solutions")
			return ExitInterrupted
		}
		fmt.Fprintf(stderr, "glomers challenge: %v\n", err)
		return ExitInternal
	}
	rows := o.runAll(ctx, o.plan(chosen, bins))
	printScoreboard(stdout, rows, o.wide)
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "glomers challenge: interrupted after %d of %d runs\n", len(rows), o.total)
		return ExitInterrupted
	}
	for _, r := range rows {
		if !r.ok && !optionalMissing(r, o.ids) {
			return ExitInvalid
		}
	}
	return ExitValid
}

// plan lays out the scoreboard's rows in the catalogue's order: one per
// variant of each chosen challenge, those that cannot run (no binary, a
// workload this bench lacks) with their verdict already given. A user's
// binaries (--bin-dir) get one row per challenge and no node arguments of
// ours: broadcast's modes are this repository's, and a node that parses
// its flags would refuse --mode.
func (o *challengeOptions) plan(chosen []challenge.Challenge, bins map[string]string) []row {
	implemented := map[string]bool{}
	for _, n := range all.Names() {
		implemented[n] = true
	}
	var rows []row
	for _, c := range chosen {
		variants := c.Variants
		if o.binDir != "" && len(variants) > 1 {
			variants = []challenge.Variant{{}}
		}
		for _, v := range variants {
			r := row{c: c, variant: v}
			bin, ok := bins[c.Binary]
			r.bin = bin
			switch {
			case !ok:
				r.verdict, r.note = "missing", "no binary "+c.Binary
				if fly := flyNames[c.Binary]; fly != "" && o.binDir != "" {
					r.note += " (or " + fly + ")"
				}
				if o.binDir != "" {
					r.note += " in " + o.binDir
				}
			case o.maelstrom == "" && !implemented[c.Workload]:
				r.verdict, r.note = "missing", "workload "+c.Workload+" is not in this bench yet"
			}
			rows = append(rows, r)
		}
	}
	o.total = len(rows)
	return rows
}

// runAll runs the planned rows, --jobs at a time (see runRows), printing
// each run's start, progress and verdict as they happen, and returns the
// rows in the catalogue's order with their official targets resolved.
// After an interruption only the rows that ran are returned.
func (o *challengeOptions) runAll(ctx context.Context, rows []row) []row {
	out := newConsole(o.stdout, o.terminal)
	jobs := o.jobs
	switch {
	case jobs == 0 && o.maelstrom != "":
		jobs = 1 // a real Maelstrom is a JVM that keeps every core busy
	case jobs == 0:
		jobs = defaultJobs()
	}
	if jobs > 1 {
		out.printf("Running %d challenge runs, up to %d at once (--jobs 1: one at a time).\n", len(rows), jobs)
	}
	for i, r := range rows {
		if r.verdict != "" {
			out.printf("\n[%d/%d] %s %s: %s\n  → %s%s\n", i+1, len(rows), r.label(), r.c.Name, r.c.Criteria, r.verdict, suffix(r.note))
		}
	}
	runRows(ctx, rows, jobs, func(ctx context.Context, i int) row {
		r := rows[i]
		out.printf("\n[%d/%d] %s %s: %s\n  $ %s\n", i+1, len(rows), r.label(), r.c.Name, r.c.Criteria,
			r.c.Command(o.tool, o.display(r.bin), r.variant))
		progress := out.start(r.label())
		if o.maelstrom != "" {
			r = o.runMaelstrom(ctx, r, r.bin)
		} else {
			r = o.runOurs(ctx, r, progress)
		}
		out.finish(r.label())
		if ctx.Err() != nil && r.verdict != "true" && r.verdict != "false" {
			r.verdict, r.note = "interrupted", ""
		}
		out.printf("[%d/%d] %s → %s%s\n", i+1, len(rows), r.label(), r.verdict, suffix(r.note))
		return r
	})
	// Every run has ended: what their nodes left behind goes now (runs
	// overlap, so not after each one; see process.ReapOrphans).
	process.ReapOrphans()
	ran := rows[:0:0]
	for _, r := range rows {
		if r.verdict != "not run" {
			ran = append(ran, r)
		}
	}
	resolveOfficial(ran)
	return ran
}

// optionalMissing reports whether r is an extra challenge (beyond fly.io's
// list) whose binary is missing and which the user did not name: scoring
// one's own binaries with `challenge all --bin-dir` should not fail for
// want of a Raft or a list-append transactor.
func optionalMissing(r row, ids []string) bool {
	if !r.c.Extra || r.verdict != "missing" {
		return false
	}
	for _, id := range ids {
		if id = strings.ToLower(id); id == r.c.ID || id == "extras" {
			return false
		}
	}
	return true
}

// resolvePaths checks --bin-dir and --maelstrom and makes them absolute
// (Maelstrom runs in its own directory), and decides how printed command
// lines call glomers.
func (o *challengeOptions) resolvePaths() error {
	if o.binDir != "" {
		fi, err := os.Stat(o.binDir)
		if err != nil {
			return fmt.Errorf("--bin-dir: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("--bin-dir %s is not a directory", o.binDir)
		}
		if o.binDir, err = filepath.Abs(o.binDir); err != nil {
			return fmt.Errorf("--bin-dir: %w", err)
		}
	}
	if o.maelstrom != "" {
		if _, err := os.Stat(o.maelstrom); err != nil {
			return fmt.Errorf("--maelstrom: %w", err)
		}
		abs, err := filepath.Abs(o.maelstrom)
		if err != nil {
			return fmt.Errorf("--maelstrom: %w", err)
		}
		o.maelstrom = abs
	}
	o.tool = "glomers"
	if o.maelstrom != "" {
		o.tool = o.maelstrom
	}
	if root, err := moduleRoot(); err == nil {
		o.modRoot = root
		if wd, err := os.Getwd(); err == nil && wd == root && o.maelstrom == "" {
			o.tool = "go run ./cmd/glomers"
		}
	}
	return nil
}

// display shortens a binary's path for printing: relative to the working
// directory when it lies below it, so the command can be pasted.
func (o *challengeOptions) display(bin string) string {
	wd, err := os.Getwd()
	if err != nil {
		return bin
	}
	if rel, err := filepath.Rel(wd, bin); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return bin
}

func suffix(note string) string {
	if note == "" {
		return ""
	}
	return " (" + note + ")"
}

// runOurs runs one challenge variant in this bench, reporting its
// progress; the test's log goes to the store.
func (o *challengeOptions) runOurs(ctx context.Context, r row, progress func(workbench.Progress)) row {
	// Our options go first: everything after the variant's "--" is the node's.
	args := []string{"--store", o.store}
	if o.seed != 0 {
		args = append(args, "--seed", strconv.FormatUint(o.seed, 10))
	}
	args = append(args, r.c.TestArgs(r.bin, r.variant)...)
	t, err := parseTest(args)
	if err != nil {
		r.verdict, r.note = "error", oneLine(err)
		return r
	}
	if fn, ok := o.nodes[r.c.Binary]; ok {
		t.cfg.Bin, t.cfg.Node = "", fn
	}
	t.cfg.Progress = progress
	start := time.Now()
	res, err := workbench.Run(ctx, t.cfg)
	r.took = time.Since(start)
	if res != nil {
		r.dir, r.seed = res.Dir, res.Seed
	}
	if err != nil {
		r.verdict, r.note = "crashed", firstLine(err)
		return r
	}
	r.verdict = res.Valid.String()
	r.reasons = res.Summary.Reasons
	r.figures = figures(res.Summary, res.Results)
	r.latency = latencyCell(r.c.Workload, r.figures)
	r.note = fmt.Sprintf("%.1fs, seed %d, %s", r.took.Seconds(), res.Seed, o.display(res.Dir))
	return r
}

var (
	maelstromServers = regexp.MustCompile(`:servers\s*\{[^}]*:msgs-per-op\s+([0-9.]+)`)
	maelstromStable  = regexp.MustCompile(`(?s):stable-latencies\s*\{0 [0-9]+,\s*0\.5 ([0-9]+),.*?\s1 ([0-9]+)\}`)
	maelstromOK      = regexp.MustCompile(`:ok-fraction\s+([0-9.]+)`)
)

// runMaelstrom runs the same command line through a real Maelstrom and
// reads the figures back from its output, which it keeps in the store.
func (o *challengeOptions) runMaelstrom(ctx context.Context, r row, bin string) row {
	start := time.Now()
	cmd := exec.CommandContext(ctx, o.maelstrom, append([]string{"test"}, r.c.TestArgs(bin, r.variant)...)...)
	cmd.Dir = filepath.Dir(o.maelstrom)
	out, err := cmd.CombinedOutput()
	r.took = time.Since(start)
	logPath := o.keepMaelstromOutput(r, out)
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
		if logPath != "" {
			r.note += "; its output is in " + logPath
		}
		return r
	}
	r.figures = map[challenge.Metric]float64{}
	if m := maelstromServers.FindSubmatch(out); m != nil {
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		r.figures[challenge.MsgsPerOp] = f
	}
	if m := maelstromOK.FindSubmatch(out); m != nil {
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		r.figures[challenge.OKFraction] = f
	}
	if m := maelstromStable.FindSubmatch(out); m != nil {
		med, _ := strconv.ParseFloat(string(m[1]), 64)
		mx, _ := strconv.ParseFloat(string(m[2]), 64)
		r.figures[challenge.StableMedian], r.figures[challenge.StableMax] = med, mx
	}
	r.latency = latencyCell(r.c.Workload, r.figures)
	r.note = "real Maelstrom"
	if logPath != "" {
		r.note += ", output in " + logPath
	}
	return r
}

// keepMaelstromOutput writes a real Maelstrom's output under
// <store>/maelstrom/ and returns the file's path ("" if it could not).
func (o *challengeOptions) keepMaelstromOutput(r row, out []byte) string {
	dir := filepath.Join(o.store, "maelstrom")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ""
	}
	name := strings.ReplaceAll(r.label(), " ", "-") + "-" + time.Now().Format("20060102T150405") + ".log"
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		return ""
	}
	return o.display(p)
}

// resolveOfficial fills each row's official targets, turning targets
// relative to another challenge (5c is judged against 5b) into bounds from
// that challenge's row in this run, and decides whether the row passed.
func resolveOfficial(rows []row) {
	byID := map[string]row{}
	for _, r := range rows {
		if _, seen := byID[r.c.ID]; !seen {
			byID[r.c.ID] = r
		}
	}
	for i := range rows {
		r := &rows[i]
		r.official = nil
		for _, t := range r.c.Official {
			if t.RelativeTo != "" {
				ref, ok := byID[t.RelativeTo]
				v, has := ref.figures[t.Metric]
				// Not judged without the reference run, nor against a run
				// of the very same binary, where only noise differs.
				if !ok || !has || ref.bin == r.bin {
					continue
				}
				t.Bound = v
			}
			r.official = append(r.official, t)
		}
		r.ok = r.verdict == checker.Valid.String() && metAll(r.official, r.figures)
	}
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
