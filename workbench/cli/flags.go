// Package cli is the glomers command line: `glomers test` with
// Maelstrom's flags, `glomers challenge` and `glomers serve`.
package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/topology"
	"github.com/glomers/glomers/workbench/workload"
)

// Exit statuses, as Maelstrom's.
const (
	ExitValid    = 0
	ExitInvalid  = 1
	ExitUnknown  = 2
	ExitUsage    = 254
	ExitInternal = 255
)

// defaultTestCount is Jepsen's --test-count default (cli.clj,
// test-opt-spec). Every default of the test itself is in
// workbench.Config's file.
const defaultTestCount = 1

// flagSpec describes one option: its names, whether it takes a value,
// its help text, its default as help shows it and what it does with the
// value.
type flagSpec struct {
	names []string
	arg   string // "" for a boolean flag, else the value's name in help
	help  string
	def   string // the default, "" for none; read from workbench's Default constants
	set   func(o *testOptions, v string) error
}

// testOptions collects `glomers test` options before they become a Config.
type testOptions struct {
	cfg        workbench.Config
	nodeCount  int
	nodes      []string
	concurrent string
	testCount  int
	help       bool
	ignored    []string
}

func positiveInt(name string, dst *int) func(*testOptions, string) error {
	return func(_ *testOptions, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%s must be a positive integer, got %q", name, v)
		}
		*dst = n
		return nil
	}
}

// positiveSeconds sets *dst from a positive number of seconds.
func positiveSeconds(name string, dst *time.Duration) func(*testOptions, string) error {
	return func(_ *testOptions, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return fmt.Errorf("%s must be a positive number of seconds, got %q", name, v)
		}
		*dst = time.Duration(f * float64(time.Second))
		return nil
	}
}

// oneOf sets *dst to a name that check, the owner of the names, accepts.
func oneOf(name string, check func(string) error, dst *string) func(*testOptions, string) error {
	return func(_ *testOptions, v string) error {
		if err := check(v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		*dst = v
		return nil
	}
}

// secs formats a duration as help shows it: seconds, as the flags take them.
func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// testFlags returns the options of `glomers test`, Maelstrom's and Jepsen's
// with the same names and defaults, plus glomers' own (--seed, --store,
// --strict, --nemesis-plan; in-process nodes are not a flag: tests use
// the Go API). The defaults and the allowed names come from workbench,
// topology, netsim, nemesis and workload, which own them.
func testFlags(o *testOptions) []flagSpec {
	return slices.Concat(subjectFlags(o), loadFlags(o), faultFlags(o), workloadFlags(o), runFlags(o), compatFlags())
}

// subjectFlags say what is tested: the binary, the workload and the nodes.
func subjectFlags(o *testOptions) []flagSpec {
	c := &o.cfg
	return []flagSpec{
		{[]string{"--bin"}, "FILE", "node binary to test (required)", "", func(_ *testOptions, v string) error { c.Bin = v; return nil }},
		{[]string{"-w", "--workload"}, "NAME", "workload to run, one of " + strings.Join(workload.AllNames(), ", "), workbench.DefaultWorkload, func(_ *testOptions, v string) error { c.Workload = v; return nil }},
		{[]string{"--node-count"}, "NUM", "number of nodes n0…n(N-1); overrides --node", "", positiveInt("--node-count", &o.nodeCount)},
		{[]string{"-n", "--node"}, "HOSTNAME", "a node id (repeatable)", strings.Join(workbench.DefaultNodeIDs(), ","), func(_ *testOptions, v string) error { o.nodes = append(o.nodes, v); return nil }},
		{[]string{"--nodes"}, "LIST", "comma-separated node ids", "", func(_ *testOptions, v string) error {
			o.nodes = append(o.nodes, splitList(v)...)
			return nil
		}},
		{[]string{"--nodes-file"}, "FILE", "file with one node id per line", "", func(_ *testOptions, v string) error {
			ids, err := readLines(v)
			if err != nil {
				return fmt.Errorf("--nodes-file: %w", err)
			}
			o.nodes = append(o.nodes, ids...)
			return nil
		}},
	}
}

// loadFlags say how long the test runs, how hard the clients push and
// how slow the network is.
func loadFlags(o *testOptions) []flagSpec {
	c := &o.cfg
	return []flagSpec{
		{[]string{"--time-limit"}, "SECONDS", "duration of the main phase", secs(workbench.DefaultTimeLimit), positiveSeconds("--time-limit", &c.TimeLimit)},
		{[]string{"--rate"}, "RATE", "client operations per second, all clients together; 0 runs none", strconv.FormatFloat(workbench.DefaultRate, 'f', -1, 64), func(_ *testOptions, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return fmt.Errorf("--rate must be a non-negative number, got %q", v)
			}
			c.Rate = f
			return nil
		}},
		{[]string{"--concurrency"}, "NUMBER", "client threads; Kn means K × node count", workbench.DefaultConcurrency, func(_ *testOptions, v string) error {
			// The node count is known only once every option is read.
			if _, err := workbench.ParseConcurrency(v, 1); err != nil {
				return err
			}
			o.concurrent = v
			return nil
		}},
		{[]string{"--latency"}, "MILLIS", "mean inter-server latency in ms", "0", func(_ *testOptions, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("--latency must be a non-negative integer, got %q", v)
			}
			c.Latency = time.Duration(n) * time.Millisecond
			return nil
		}},
		{[]string{"--latency-dist"}, "TYPE", "latency distribution: " + strings.Join(netsim.Dists(), ", "), workbench.DefaultLatencyDist, oneOf("--latency-dist", netsim.CheckDist, &c.LatencyDist)},
	}
}

// faultFlags say which faults the nemesis injects, and how available
// the nodes must stay despite them.
func faultFlags(o *testOptions) []flagSpec {
	c := &o.cfg
	return []flagSpec{
		{[]string{"--nemesis"}, "FAULTS", "comma-separated faults to inject: " + strings.Join(nemesis.Faults(), ", ") +
			" (Maelstrom has partition only; kill restarts a node with empty memory, pause stops it with SIGSTOP, then SIGCONT)", "", func(_ *testOptions, v string) error {
			faults := splitList(v)
			if err := nemesis.CheckFaults(faults); err != nil {
				return err
			}
			for _, f := range faults {
				if !slices.Contains(c.Nemesis, f) {
					c.Nemesis = append(c.Nemesis, f)
				}
			}
			return nil
		}},
		{[]string{"--nemesis-interval"}, "SECONDS", "mean seconds between one fault's nemesis operations", secs(workbench.DefaultNemesisInterval), positiveSeconds("--nemesis-interval", &c.NemesisInterval)},
		{[]string{"--nemesis-plan"}, "PLAN", "replay these faults instead of random ones, e.g. '0s start-partition n0:n1,n1:n0; 2s stop-partition' (as workbenchtest.Explore prints them; each fault must be in --nemesis)", "", func(_ *testOptions, v string) error {
			p, err := nemesis.ParsePlan(v)
			if err != nil {
				return fmt.Errorf("--nemesis-plan: %w", err)
			}
			c.FaultPlan = p
			return nil
		}},
		{[]string{"--availability"}, "EXPECTED", "total, or the fraction of operations that must succeed", "", func(_ *testOptions, v string) error {
			c.Availability = v
			return nil
		}},
	}
}

// workloadFlags are the settings of particular workloads.
func workloadFlags(o *testOptions) []flagSpec {
	c := &o.cfg
	return []flagSpec{
		{[]string{"--consistency-models"}, "MODELS", "consistency models the txn workloads check", workbench.DefaultConsistencyModel, func(_ *testOptions, v string) error {
			c.ConsistencyModels = splitList(v)
			return nil
		}},
		{[]string{"--max-txn-length"}, "INT", "most micro-operations in a transaction", strconv.Itoa(workbench.DefaultMaxTxnLength), positiveInt("--max-txn-length", &c.MaxTxnLength)},
		{[]string{"--max-writes-per-key"}, "INT", "writes per key before it is retired", strconv.Itoa(workbench.DefaultMaxWritesPerKey), positiveInt("--max-writes-per-key", &c.MaxWritesPerKey)},
		{[]string{"--key-count"}, "INT", "number of active keys (txn workloads, kafka; default: the workload's)", "", positiveInt("--key-count", &c.KeyCount)},
		{[]string{"--topology"}, "SPEC", "broadcast topology: " + strings.Join(topology.Names(), ", "), workbench.DefaultTopology, oneOf("--topology", topology.Check, &c.Topology)},
	}
}

// runFlags are about the run itself: its log, repetitions, seed, store
// and verdict, and help.
func runFlags(o *testOptions) []flagSpec {
	c := &o.cfg
	return []flagSpec{
		{[]string{"--log-stderr"}, "", "copy node stderr into the log", "", func(_ *testOptions, _ string) error { c.LogStderr = true; return nil }},
		{[]string{"--log-net-send"}, "", "log every message when sent", "", func(_ *testOptions, _ string) error { c.LogNetSend = true; return nil }},
		{[]string{"--log-net-recv"}, "", "log every message when delivered", "", func(_ *testOptions, _ string) error { c.LogNetRecv = true; return nil }},
		{[]string{"--test-count"}, "NUMBER", "run the test this many times, stopping at the first that is not valid", strconv.Itoa(defaultTestCount), positiveInt("--test-count", &o.testCount)},
		{[]string{"--seed"}, "N", "seed for every random choice (default: from the clock; printed)", "", func(_ *testOptions, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n == 0 {
				return fmt.Errorf("--seed must be a positive integer, got %q", v)
			}
			c.Seed = n
			return nil
		}},
		{[]string{"--store"}, "DIR", "where to keep test results", workbench.DefaultStoreRoot, func(_ *testOptions, v string) error { c.StoreRoot = v; return nil }},
		{[]string{"--strict"}, "", "let glomers' extra checks (the :glomers section) count in the verdict", "", func(_ *testOptions, _ string) error { c.Strict = true; return nil }},
		{[]string{"-h", "--help"}, "", "print this help", "", func(o *testOptions, _ string) error { o.help = true; return nil }},
	}
}

// compatFlags are Jepsen's options that mean nothing without SSH:
// accepted and ignored.
func compatFlags() []flagSpec {
	return []flagSpec{
		{[]string{"--leave-db-running"}, "", "accepted for compatibility; nodes are always stopped", "", ignore("--leave-db-running")},
		{[]string{"--logging-json"}, "", "accepted for compatibility; ignored", "", ignore("--logging-json")},
		{[]string{"--no-ssh"}, "", "accepted for compatibility; ignored", "", ignore("--no-ssh")},
		{[]string{"--strict-host-key-checking"}, "", "accepted for compatibility; ignored", "", ignore("--strict-host-key-checking")},
		{[]string{"--username"}, "USER", "accepted for compatibility; ignored", "", ignore("--username")},
		{[]string{"--password"}, "PASS", "accepted for compatibility; ignored", "", ignore("--password")},
		{[]string{"--ssh-private-key"}, "FILE", "accepted for compatibility; ignored", "", ignore("--ssh-private-key")},
	}
}

func ignore(name string) func(*testOptions, string) error {
	return func(o *testOptions, _ string) error { o.ignored = append(o.ignored, name); return nil }
}

var listSep = regexp.MustCompile(`\s*,\s*`)

func splitList(v string) []string {
	var out []string
	for _, s := range listSep.Split(strings.TrimSpace(v), -1) {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

// specValue adapts a flagSpec to pflag, which then does the parsing. It
// starts as the spec's default, which pflag keeps as the flag's DefValue
// for help.
type specValue struct {
	o    *testOptions
	spec *flagSpec
	last string
}

func (v *specValue) String() string { return v.last }
func (v *specValue) Type() string   { return v.spec.arg }
func (v *specValue) Set(s string) error {
	if v.spec.arg == "" && s != "true" {
		return fmt.Errorf("%s takes no value", v.spec.names[len(v.spec.names)-1])
	}
	v.last = s
	return v.spec.set(v.o, s)
}

// testFlagSet registers every option of `glomers test` in a pflag set.
func testFlagSet(o *testOptions) *pflag.FlagSet {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.SetInterspersed(true)
	specs := testFlags(o)
	for i := range specs {
		spec := &specs[i]
		long, short := "", ""
		for _, n := range spec.names {
			if strings.HasPrefix(n, "--") {
				long = strings.TrimPrefix(n, "--")
			} else {
				short = strings.TrimPrefix(n, "-")
			}
		}
		f := fs.VarPF(&specValue{o: o, spec: spec, last: spec.def}, long, short, spec.help)
		if spec.arg == "" {
			f.NoOptDefVal = "true"
		} else {
			setArg(fs, long, spec.arg)
		}
	}
	return fs
}

// parseTest parses `glomers test` arguments the way Maelstrom's option
// parser does: options may appear anywhere, "--flag value" or
// "--flag=value"; everything that is not an option is passed to the
// node binary as its arguments (so the 6c page's "–-nemesis partition",
// with an en dash, becomes two binary arguments, as under Maelstrom).
// "--" ends option parsing. The Config it returns has its defaults
// filled (Config.Defaults); workbench.Run validates it as a whole.
func parseTest(args []string) (*testOptions, error) {
	o := &testOptions{testCount: defaultTestCount, concurrent: workbench.DefaultConcurrency}
	// The two defaults of the command line that Config's zero values do
	// not mean (see workbench.Config).
	o.cfg.Rate = workbench.DefaultRate
	o.cfg.StoreRoot = workbench.DefaultStoreRoot
	fs := testFlagSet(o)
	if err := fs.Parse(args); err != nil {
		return o, flagError(fs, err)
	}
	o.cfg.Args = append(o.cfg.Args, fs.Args()...)
	if o.help {
		return o, nil
	}
	// Derived settings, in Maelstrom's order: node list, then concurrency.
	switch {
	case o.nodeCount > 0:
		o.cfg.NodeIDs = workbench.NodeIDs(o.nodeCount)
	case len(o.nodes) > 0:
		o.cfg.NodeIDs = o.nodes
	}
	o.cfg.Defaults()
	k, err := workbench.ParseConcurrency(o.concurrent, len(o.cfg.NodeIDs))
	if err != nil {
		return o, err
	}
	o.cfg.Concurrency = k
	if o.cfg.Bin == "" {
		return o, errors.New("expected a --bin PATH_TO_BINARY to test")
	}
	return o, nil
}

// testUsage is the help of `glomers test`.
func testUsage() string {
	var b strings.Builder
	b.WriteString(`Usage: glomers test -w WORKLOAD --bin BINARY [options] [-- binary args]

Runs one Maelstrom test in pure Go, with maelstrom test's option names and
defaults. Arguments that are not options are passed to the node binary. The
exit status is 0 valid, 1 invalid, 2 unknown, 130 interrupted, 254 bad
arguments, 255 the test could not run.

Options:
`)
	writeOptions(&b, testFlagSet(&testOptions{}))
	return b.String()
}
