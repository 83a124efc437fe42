package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/challenge"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// --maelstrom sends the official command line to the tool given and reads
// its verdict and figures back; --bin-dir finds binaries by the pages' names.
func TestChallengeThroughAnotherMaelstrom(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "maelstrom-echo")
	os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	argsFile := filepath.Join(dir, "args")
	tool := filepath.Join(dir, "maelstrom")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\n" +
		"echo ' :net {:servers {:send-count 10, :msgs-per-op 0.5}, :valid? true}'\n" +
		"echo 'Everything looks good!'\nexit 0\n"
	os.WriteFile(tool, []byte(script), 0o755)

	store := filepath.Join(dir, "store")
	code, out, stderr := run(t, "challenge", "1", "--bin-dir", dir, "--maelstrom", tool, "--store", store)
	if code != ExitValid {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	got, _ := os.ReadFile(argsFile)
	want := "test -w echo --bin " + bin + " --node-count 1 --time-limit 10"
	if logs, _ := filepath.Glob(filepath.Join(store, "maelstrom", "1-*.log")); len(logs) != 1 {
		t.Errorf("Maelstrom's output was not kept in the store: %v", logs)
	}
	if strings.TrimSpace(string(got)) != want {
		t.Errorf("the tool got %q, want %q", got, want)
	}
	if !strings.Contains(out, "real Maelstrom") || !strings.Contains(out, "0.50") {
		t.Errorf("scoreboard lacks the tool's figures:\n%s", out)
	}

	// An invalid verdict (exit 1) is reported as such and fails the command.
	os.WriteFile(tool, []byte("#!/bin/sh\necho 'Analysis invalid!'\nexit 1\n"), 0o755)
	code, out, _ = run(t, "challenge", "1", "--bin-dir", dir, "--maelstrom", tool, "--store", store)
	if code != ExitInvalid || !strings.Contains(out, "false") {
		t.Errorf("invalid run: exit %d\n%s", code, out)
	}
}

// A challenge without a binary fails the command: the scoreboard says
// which is missing, and the exit status is not 0.
func TestChallengeWithoutBinaryFails(t *testing.T) {
	code, out, _ := run(t, "challenge", "5a", "--bin-dir", t.TempDir())
	if code != ExitInvalid || !strings.Contains(out, "missing") || !strings.Contains(out, "no binary kafka") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// An extra challenge (beyond fly.io's list) whose binary is missing fails
// the command when the user names it, not when it only came with "all".
func TestMissingExtraFailsOnlyWhenNamed(t *testing.T) {
	code, out, _ := run(t, "challenge", "list-append", "--bin-dir", t.TempDir())
	if code != ExitInvalid || !strings.Contains(out, "no binary txn-list-append") {
		t.Errorf("named extra: exit %d\n%s", code, out)
	}
	var extra challenge.Challenge
	for _, c := range challenge.All() {
		if c.ID == "list-append" {
			extra = c
		}
	}
	missing := row{c: extra, verdict: "missing"}
	for _, c := range []struct {
		ids      []string
		optional bool
	}{
		{[]string{"all"}, true},
		{[]string{"official", "list-append"}, false},
		{[]string{"ALL", "1"}, true},
		{[]string{"all", strings.ToUpper(extra.ID)}, false},
		{[]string{"extras"}, false},
	} {
		if got := optionalMissing(missing, c.ids); got != c.optional {
			t.Errorf("ids %v: optional %v, want %v", c.ids, got, c.optional)
		}
	}
	if optionalMissing(row{c: extra, verdict: "false"}, []string{"all"}) {
		t.Error("an invalid extra run was excused")
	}
	official := challenge.All()[0]
	if optionalMissing(row{c: official, verdict: "missing"}, []string{"all"}) {
		t.Error("a missing official challenge was excused")
	}
}

// A --bin-dir that does not exist, or is a file, is a usage error.
func TestChallengeBadBinDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for _, dir := range []string{"/nonexistent/glomers", file} {
		code, _, stderr := run(t, "challenge", "1", "--bin-dir", dir)
		if code != ExitUsage || !strings.Contains(stderr, "--bin-dir") {
			t.Errorf("--bin-dir %s: exit %d, stderr %q", dir, code, stderr)
		}
	}
	code, _, stderr := run(t, "challenge", "1", "--frob")
	if code != ExitUsage || !strings.Contains(stderr, "frob") {
		t.Errorf("unknown option: exit %d, stderr %q", code, stderr)
	}
}

// The scoreboard fits in 100 columns, and a row without figures shows
// no target as met.
func TestScoreboardIsNarrow(t *testing.T) {
	var rows []row
	for _, c := range challenge.All() {
		for _, v := range c.Variants {
			r := row{c: c, variant: v, verdict: "true", took: 21 * time.Second,
				figures: map[challenge.Metric]float64{challenge.MsgsPerOp: 12.345, challenge.OKFraction: 1,
					challenge.OpP50: 1.5, challenge.OpP99: 250, challenge.StableMedian: 139, challenge.StableMax: 1350}}
			r.latency = latencyCell(c.Workload, r.figures)
			rows = append(rows, r)
		}
	}
	rows = append(rows, row{c: challenge.All()[0], verdict: "missing", note: "no binary echo"})
	resolveOfficial(rows)
	var b strings.Builder
	printScoreboard(&b, rows, false)
	for _, line := range strings.Split(b.String(), "\n") {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
	last := rows[len(rows)-1]
	if tally(last, nil) != "-" || tally(last, last.c.Official) != "-" {
		t.Errorf("a missing run shows targets %q / %q, want -", tally(last, nil), tally(last, last.c.Official))
	}
	if !strings.Contains(b.String(), "Targets missed") || !strings.Contains(b.String(), "✗ max-latency-ms < 600: 1350") {
		t.Errorf("the missed 3d maximum latency is not listed:\n%s", b.String())
	}
}

// 5c is judged against 5b's figure from the same run.
func TestRelativeTargetUsesTheReferenceRun(t *testing.T) {
	byID := map[string]challenge.Challenge{}
	for _, c := range challenge.All() {
		byID[c.ID] = c
	}
	mk := func(id string, msgs float64) row {
		return row{c: byID[id], variant: byID[id].Variants[0], verdict: "true", bin: "bin/kafka-" + id,
			figures: map[challenge.Metric]float64{challenge.MsgsPerOp: msgs, challenge.OKFraction: 1}}
	}
	rows := []row{mk("5b", 0.5), mk("5c", 0.6)}
	resolveOfficial(rows)
	if rows[1].ok {
		t.Errorf("5c at 0.6 msgs/op passed against 5b's 0.5")
	}
	rows = []row{mk("5b", 0.5), mk("5c", 0.5)}
	resolveOfficial(rows)
	if !rows[1].ok {
		t.Errorf("5c at 5b's own 0.5 msgs/op failed: %v", rows[1].official)
	}
	rows = []row{mk("5c", 0.6)}
	resolveOfficial(rows)
	if !rows[0].ok || len(rows[0].official) != 0 {
		t.Errorf("5c alone: ok %v, targets %v; want no relative target to judge", rows[0].ok, rows[0].official)
	}
	// One binary for both: the difference is noise, not a judgement.
	rows = []row{mk("5b", 0.5), mk("5c", 0.6)}
	rows[1].bin = rows[0].bin
	resolveOfficial(rows)
	if !rows[1].ok || len(rows[1].official) != 0 {
		t.Errorf("5c with 5b's own binary: ok %v, targets %v; want the relative target dropped", rows[1].ok, rows[1].official)
	}
}

// The served fraction counts :ok and the refusals the data calls for (20,
// 22) over every client operation; timeouts, other errors (11: no
// leader) and operations still open count against it, nemesis ops not at
// all.
func TestServedFraction(t *testing.T) {
	fail := func(p int, code string) []history.Op {
		return []history.Op{{Type: history.Invoke, Process: p, F: "cas"},
			{Type: history.Fail, Process: p, F: "cas", Error: []any{edn.Keyword(code), "text"}}}
	}
	var ops []history.Op
	ops = append(ops, history.Op{Type: history.Invoke, Process: 0, F: "read"}, history.Op{Type: history.OK, Process: 0, F: "read"})
	ops = append(ops, fail(1, "precondition-failed")...)
	ops = append(ops, fail(2, "key-does-not-exist")...)
	ops = append(ops, fail(3, "temporarily-unavailable")...)
	ops = append(ops, history.Op{Type: history.Invoke, Process: 4, F: "write"},
		history.Op{Type: history.Info, Process: 4, F: "write", Error: edn.Keyword("net-timeout")})
	ops = append(ops, history.Op{Type: history.Invoke, Process: 5, F: "write"}) // never completed
	ops = append(ops, history.Op{Type: history.Info, Process: history.NemesisProcess, F: "start-partition"},
		history.Op{Type: history.Info, Process: history.NemesisProcess, F: "start-partition"})
	f := figures(workbench.Summarise(ops, nil, checker.NetStats{}), edn.K())
	if got := f[challenge.ServedFraction]; got != 0.5 {
		t.Errorf("served fraction %v, want 3 of 6 = 0.5", got)
	}
	tgt := challenge.Target{Metric: challenge.ServedFraction, Bound: 0.75}
	if tgt.Met(0.5) || !tgt.Met(0.75) || tgt.String() != "served-fraction ≥ 0.75" {
		t.Errorf("served-fraction target: met(0.5)=%v met(0.75)=%v %q", tgt.Met(0.5), tgt.Met(0.75), tgt.String())
	}
}

// A user's binaries (--bin-dir) get one row per challenge and none of our
// node arguments (broadcast's --mode is ours: a node that parses its flags
// would refuse it); ours run in both modes. A missing binary's note names
// both file names it was looked for under.
func TestPlanForUserBinaries(t *testing.T) {
	chosen, err := challenge.Select([]string{"3c"})
	if err != nil {
		t.Fatal(err)
	}
	ours := (&challengeOptions{}).plan(chosen, map[string]string{"broadcast": "bin/broadcast"})
	if len(ours) != 2 || len(ours[0].variant.NodeArgs) == 0 {
		t.Errorf("our broadcast: %d rows, node args %v", len(ours), ours[0].variant.NodeArgs)
	}
	dir := t.TempDir()
	theirs := (&challengeOptions{binDir: dir}).plan(chosen, map[string]string{"broadcast": dir + "/maelstrom-broadcast"})
	if len(theirs) != 1 || len(theirs[0].variant.NodeArgs) != 0 || theirs[0].verdict != "" {
		t.Fatalf("a user's broadcast: %+v", theirs)
	}
	if cmd := theirs[0].c.Command("glomers", theirs[0].bin, theirs[0].variant); strings.Contains(cmd, "--mode") {
		t.Errorf("a user's binary gets our arguments: %s", cmd)
	}
	missing := (&challengeOptions{binDir: dir}).plan(chosen, map[string]string{})
	if len(missing) != 1 || missing[0].verdict != "missing" ||
		!strings.Contains(missing[0].note, "broadcast") || !strings.Contains(missing[0].note, "maelstrom-broadcast") {
		t.Errorf("missing: %+v", missing)
	}
}
