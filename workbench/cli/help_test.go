package cli

import (
	"fmt"
	"reflect"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/topology"
)

// helpDefaults reads help text back: for every option, the "(default X)"
// its entry ends with, wrapped lines joined, keyed by its long name.
func helpDefaults(t *testing.T, help string) map[string]string {
	t.Helper()
	entry := regexp.MustCompile(`^  (?:-\w, )?--([\w-]+)`)
	def := regexp.MustCompile(`\(default ([^):]+)\)$`)
	texts := map[string]string{}
	name := ""
	for _, line := range strings.Split(help, "\n") {
		if m := entry.FindStringSubmatch(line); m != nil {
			name = m[1]
			texts[name] = strings.TrimSpace(line)
			continue
		}
		if name != "" && strings.HasPrefix(line, "   ") {
			texts[name] += " " + strings.TrimSpace(line)
			continue
		}
		name = ""
	}
	out := map[string]string{}
	for n, text := range texts {
		out[n] = ""
		if m := def.FindStringSubmatch(text); m != nil {
			out[n] = m[1]
		}
	}
	return out
}

// The defaults `glomers test --help` states are the ones Config.Defaults
// sets, and the ones parseTest gives when no option is passed.
func TestTestHelpShowsConfigDefaults(t *testing.T) {
	code, help, _ := run(t, "test", "--help")
	if code != ExitValid {
		t.Fatalf("test --help exited %d", code)
	}
	got := helpDefaults(t, help)
	var cfg workbench.Config
	cfg.Defaults()
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	want := map[string]string{
		"workload":           q(cfg.Workload),
		"node":               q(strings.Join(cfg.NodeIDs, ",")),
		"time-limit":         fmt.Sprint(cfg.TimeLimit.Seconds()),
		"latency":            "0",
		"latency-dist":       q(cfg.LatencyDist),
		"nemesis-interval":   fmt.Sprint(cfg.NemesisInterval.Seconds()),
		"topology":           q(cfg.Topology),
		"max-txn-length":     fmt.Sprint(cfg.MaxTxnLength),
		"max-writes-per-key": fmt.Sprint(cfg.MaxWritesPerKey),
		"consistency-models": q(strings.Join(cfg.ConsistencyModels, ",")),
		// The command line's own defaults, where Config's zero value
		// means something else.
		"rate":       fmt.Sprint(workbench.DefaultRate),
		"store":      q(workbench.DefaultStoreRoot),
		"test-count": "1",
		// Options without a default say none.
		"bin": "", "node-count": "", "nemesis": "", "availability": "", "key-count": "",
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("--%s: help shows default %q, want %q", name, g, w)
		}
	}
	// --concurrency is a rule, Kn; applied to the default nodes it gives
	// Config's default thread count.
	shown, err := strconv.Unquote(got["concurrency"])
	if err != nil {
		t.Fatalf("--concurrency default %q: %v", got["concurrency"], err)
	}
	if n, err := workbench.ParseConcurrency(shown, len(cfg.NodeIDs)); err != nil || n != cfg.Concurrency {
		t.Errorf("--concurrency default %s gives %d threads on %d nodes (%v); Config.Defaults gives %d", shown, n, len(cfg.NodeIDs), err, cfg.Concurrency)
	}

	// With no options but --bin, the parsed Config is Config.Defaults'
	// plus the command line's own rate and store.
	o, err := parseTest([]string{"--bin", "b"})
	if err != nil {
		t.Fatal(err)
	}
	expect := workbench.Config{Bin: "b", Rate: workbench.DefaultRate, StoreRoot: workbench.DefaultStoreRoot}
	expect.Defaults()
	if !reflect.DeepEqual(o.cfg, expect) {
		t.Errorf("parsed defaults\n%+v\nwant\n%+v", o.cfg, expect)
	}
	if o.testCount != 1 {
		t.Errorf("--test-count default %d, want 1", o.testCount)
	}
}

// --topology and --latency-dist take exactly the names topology and
// netsim own, and help lists them.
func TestTestNamesComeFromTheirPackages(t *testing.T) {
	_, help, _ := run(t, "test", "--help")
	flat := strings.Join(strings.Fields(help), " ")
	for _, c := range []struct {
		flag  string
		names []string
	}{
		{"--topology", topology.Names()},
		{"--latency-dist", netsim.Dists()},
	} {
		if list := strings.Join(c.names, ", "); !strings.Contains(flat, list) {
			t.Errorf("help of %s does not list %s", c.flag, list)
		}
		for _, n := range c.names {
			args := []string{"--bin", "b", c.flag, n}
			if n == netsim.Exponential {
				args = append(args, "--latency", "10")
			}
			if _, err := parseTest(args); err != nil {
				t.Errorf("%s %s refused: %v", c.flag, n, err)
			}
		}
		_, err := parseTest([]string{"--bin", "b", c.flag, "bogus"})
		if err == nil || !strings.Contains(err.Error(), strings.Join(c.names, ", ")) {
			t.Errorf("%s bogus: error %v does not list %v", c.flag, err, c.names)
		}
	}
}

// flagSets returns the options of each subcommand.
func flagSets(t *testing.T) map[string]*pflag.FlagSet {
	t.Helper()
	co, err := parseChallenge([]string{"--help"})
	if err != nil {
		t.Fatal(err)
	}
	so, err := parseServe(nil)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*pflag.FlagSet{"test": testFlagSet(&testOptions{}), "challenge": co.flags, "serve": so.flags}
}

// Every subcommand's help has the same shape: an option's value has a
// name in capitals, never a Go type (--seed uint) nor pflag's
// --help[=true|false]; lines fit in 80 columns; every option is listed.
func TestHelpStyle(t *testing.T) {
	capitals := regexp.MustCompile(`^[A-Z]+$`)
	for cmd, fs := range flagSets(t) {
		code, help, _ := run(t, cmd, "--help")
		if code != ExitValid {
			t.Fatalf("%s --help exited %d", cmd, code)
		}
		for _, bad := range []string{"[=true|false]", "[=", " string ", " uint", " int ", "float64"} {
			if strings.Contains(help, bad) {
				t.Errorf("%s --help shows %q:\n%s", cmd, bad, help)
			}
		}
		for i, line := range strings.Split(help, "\n") {
			if n := len([]rune(line)); n > helpWidth {
				t.Errorf("%s --help line %d is %d columns: %q", cmd, i+1, n, line)
			}
		}
		fs.VisitAll(func(f *pflag.Flag) {
			arg := argOf(f)
			isSwitch := f.NoOptDefVal != "" || f.Value.Type() == "bool"
			if isSwitch != (arg == "") || (arg != "" && !capitals.MatchString(arg)) {
				t.Errorf("%s --%s: value named %q in help", cmd, f.Name, arg)
			}
			entry := "--" + f.Name
			if arg != "" {
				entry += " " + arg
			}
			if !strings.Contains(help, "  "+entry) && !strings.Contains(help, ", "+entry) {
				t.Errorf("%s --help lacks %q", cmd, entry)
			}
		})
		if !strings.Contains(help, "-h, --help ") {
			t.Errorf("%s --help does not list -h, --help", cmd)
		}
	}
}

// Every usage error of every subcommand is one line on stderr that ends
// by pointing at the subcommand's help, with exit status 254.
func TestUsageErrorsPointAtHelp(t *testing.T) {
	store := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"test", "--bin", "b", "--frobnicate"}, "unknown flag --frobnicate"},
		{[]string{"test", "--bin", "b", "-x"}, "unknown flag -x "},
		{[]string{"test", "--bin", "b", "--rate", "x"}, `--rate must be a non-negative number, got "x"`},
		{[]string{"test", "--bin", "b", "--rate"}, "--rate needs a value (RATE)"},
		{[]string{"test", "--bin", "b", "--log-stderr=yes"}, "--log-stderr takes no value"},
		{[]string{"test", "-w", "nope", "--bin", "b"}, `unknown workload "nope"`},
		{[]string{"test", "-w", "echo"}, "expected a --bin"},
		{[]string{"test", "--bin", "b", "--concurrency", "0n"}, "--concurrency must be at least 1"},
		{[]string{"test", "--bin", "b", "--topology", "star"}, "--topology: unknown topology"},
		// Found by Run, not by the parser: still a usage error.
		{[]string{"test", "-w", "echo", "--bin", "/nonexistent/glomers-node", "--store", store}, "no such file"},
		{[]string{"challenge"}, "name challenges"},
		{[]string{"challenge", "9z"}, "unknown challenge 9z"},
		{[]string{"challenge", "1", "--jobs", "-1"}, "--jobs must be at least 1"},
		{[]string{"challenge", "1", "--jobs", "many"}, `--jobs must be an integer, got "many"`},
		{[]string{"challenge", "1", "--seed", "-3"}, `--seed must be a non-negative integer, got "-3"`},
		{[]string{"challenge", "1", "--frob"}, "unknown flag --frob"},
		{[]string{"challenge", "1", "--bin-dir", "/nonexistent/glomers"}, "--bin-dir"},
		{[]string{"serve", "--nope"}, "unknown flag --nope"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{"serve", "--port", "70000"}, "not a TCP port"},
		{[]string{"serve", "-p", "http"}, `--port must be an integer, got "http"`},
		{[]string{"serve", "--host"}, "--host needs a value (HOST)"},
	} {
		code, stdout, stderr := run(t, c.args...)
		tail := fmt.Sprintf(" (see glomers %s --help)\n", c.args[0])
		if code != ExitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 ||
			!strings.HasPrefix(stderr, "glomers "+c.args[0]+": ") || !strings.HasSuffix(stderr, tail) || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 254 and one line with %q ending %q", c.args, code, stdout, stderr, c.want, tail)
		}
	}
}

// A misspelt flag, workload, topology, challenge or command gets the
// nearest known one; a word near none gets no guess.
func TestSuggestions(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // "" for no suggestion
	}{
		{[]string{"test", "--bin", "b", "--node-cont", "3"}, "unknown flag --node-cont; did you mean --node-count?"},
		{[]string{"test", "--bin", "b", "--nemesis-int", "3"}, "did you mean --nemesis-interval?"},
		{[]string{"test", "--bin", "b", "--frobnicate"}, ""},
		{[]string{"test", "--bin", "b", "-w", "lin-k"}, `unknown workload "lin-k" (did you mean lin-kv?)`},
		{[]string{"test", "--bin", "b", "-w", "brodcast"}, "(did you mean broadcast?)"},
		{[]string{"test", "--bin", "b", "-w", "zookeeper"}, ""},
		{[]string{"test", "--bin", "b", "--topology", "gird"}, "(did you mean grid?)"},
		{[]string{"challenge", "3f"}, "did you mean 3a?"},
		{[]string{"challenge", "rafts"}, "did you mean raft?"},
		{[]string{"challenge", "1", "al"}, "did you mean all?"},
		{[]string{"challenge", "9z"}, ""},
		{[]string{"challenge", "1", "--wid"}, "did you mean --wide?"},
		{[]string{"serve", "--prot", "1"}, "did you mean --port?"},
		{[]string{"tset"}, "did you mean test?"},
		{[]string{"--verison"}, "did you mean version?"},
		{[]string{"frob"}, ""},
	} {
		code, _, stderr := run(t, c.args...)
		if code != ExitUsage {
			t.Errorf("%q exited %d, want %d", c.args, code, ExitUsage)
		}
		switch {
		case c.want == "" && strings.Contains(stderr, "did you mean"):
			t.Errorf("%q: a guess for a word near nothing: %q", c.args, stderr)
		case c.want != "" && !strings.Contains(stderr, c.want):
			t.Errorf("%q: stderr %q lacks %q", c.args, stderr, c.want)
		}
	}
}

// glomers --version and glomers version print the module version and
// the VCS revision the binary was built from.
func TestVersion(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	want := versionLine(info, ok) + "\n"
	for _, arg := range []string{"--version", "version"} {
		code, stdout, stderr := run(t, arg)
		if code != ExitValid || stdout != want || stderr != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0 and %q", arg, code, stdout, stderr, want)
		}
	}
	if !strings.HasPrefix(want, "glomers ") {
		t.Errorf("version line %q does not start with the program's name", want)
	}
	code, stdout, _ := run(t, "--help")
	if code != ExitValid || !strings.Contains(stdout, "glomers --version") {
		t.Errorf("top-level help does not mention --version:\n%s", stdout)
	}
}

func TestVersionLine(t *testing.T) {
	vcs := func(rev, modified, time string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: time},
			{Key: "vcs.modified", Value: modified},
		}
	}
	for _, c := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"go install @tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/glomers/glomers", Version: "v1.2.0"}},
			true, "glomers v1.2.0 (no VCS revision recorded) built with go1.26.8"},
		{"checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("0123456789abcdef0123456789abcdef01234567", "false", "2026-12-07T12:00:00Z")},
			true, "glomers (devel) revision 0123456789abcdef0123456789abcdef01234567 of 2026-12-07T12:00:00Z built with go1.26.8"},
		{"edited checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261207120000-0123456789ab+dirty"},
			Settings: vcs("0123456789abcdef0123456789abcdef01234567", "true", "2026-12-07T12:00:00Z")},
			true, "glomers v0.0.0-20261207120000-0123456789ab+dirty revision 0123456789abcdef0123456789abcdef01234567 (modified) of 2026-12-07T12:00:00Z built with go1.26.8"},
		{"no version at all", &debug.BuildInfo{}, true, "glomers (devel) (no VCS revision recorded)"},
		{"no build info", nil, false, "glomers (unknown version: built without module support)"},
	} {
		if got := versionLine(c.info, c.ok); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// The top-level help states serve's defaults from the same constants
// serve uses.
func TestTopLevelHelpStatesServeDefaults(t *testing.T) {
	_, stdout, _ := run(t, "--help")
	want := fmt.Sprintf("http://%s:%d/ over ./%s", defaultServeHost, defaultServePort, workbench.DefaultStoreRoot)
	if !strings.Contains(stdout, want) {
		t.Errorf("top-level help lacks %q:\n%s", want, stdout)
	}
}
