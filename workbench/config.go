package workbench

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/internal/suggest"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/process"
	"github.com/glomers/glomers/workbench/topology"
	"github.com/glomers/glomers/workbench/workload"
	"github.com/glomers/glomers/workbench/workload/all"
)

// Maelstrom's defaults for a test, as `maelstrom test` has them:
// src/maelstrom/core.clj (opt-spec) for Maelstrom's own options, and
// jepsen/src/jepsen/cli.clj (test-opt-spec) for the node list,
// --concurrency and --time-limit. Config.Defaults fills a Config from
// them; the command line's flags and help text read them from here.
const (
	DefaultWorkload = "lin-kv"
	// DefaultConcurrency is Jepsen's "1n": one worker thread per node.
	// (Maelstrom's challenge pages pass --concurrency 2n; that is their
	// choice, not the default.)
	DefaultConcurrency     = "1n"
	DefaultTimeLimit       = 60 * time.Second
	DefaultLatencyDist     = netsim.Constant
	DefaultNemesisInterval = 10 * time.Second
	DefaultTopology        = "grid"
	DefaultMaxTxnLength    = 4
	DefaultMaxWritesPerKey = 16
	// DefaultConsistencyModel is the model the txn workloads check.
	DefaultConsistencyModel = "strict-serializable"
	// DefaultRecoveryWait is the sleep before the final phase.
	DefaultRecoveryWait = 10 * time.Second

	// DefaultRate is --rate's default in operations per second. Unlike
	// the others Defaults does not apply it: Config.Rate 0 means no
	// client operations, as --rate 0 does.
	DefaultRate = 5.0
	// DefaultStoreRoot is --store's default. Defaults does not apply
	// it: Config.StoreRoot "" means store nothing.
	DefaultStoreRoot = "store"
)

// DefaultNodeIDs returns Jepsen's default node list, n1…n5, used when
// neither --node-count nor --node names the nodes.
func DefaultNodeIDs() []string { return []string{"n1", "n2", "n3", "n4", "n5"} }

// Config is one test, as the command line describes it. Defaults replaces
// the zero value of an optional field with Maelstrom's default (the
// Default constants above), except where the field says what its zero
// value means: Rate 0 runs no client operations, KeyCount 0 leaves the
// key count to the workload, Seed 0 draws a seed from the clock and
// StoreRoot "" stores nothing.
type Config struct {
	Workload string   // -w: workload name
	Bin      string   // --bin: node binary
	Args     []string // positional arguments, passed to the binary
	Env      []string // extra environment variables for the binary (KEY=VALUE)
	// Node, when set, runs every node in-process instead of Bin.
	Node process.Func

	NodeIDs     []string      // node ids (from --node-count, --node or DefaultNodeIDs)
	Concurrency int           // worker threads; 0: DefaultConcurrency, one per node
	TimeLimit   time.Duration // main phase duration
	// Rate is the total client operations per second. 0 runs none: the
	// main phase only waits out the time limit (Maelstrom's --rate 0).
	// The command line's default is DefaultRate.
	Rate        float64
	Latency     time.Duration // mean inter-server latency
	LatencyDist string        // one of netsim.Dists()

	// Nemesis lists the faults to inject: "partition" (Maelstrom's only
	// one), and glomers' extras "kill" and "pause" (see nemesis.Faults).
	Nemesis         []string
	NemesisInterval time.Duration // mean time between nemesis operations
	Availability    string        // "", "total" or a fraction

	// FaultPlan, when not nil, replaces the random schedule of Nemesis
	// with these operations at these times (see nemesis.Plan); every
	// fault it uses must be in Nemesis, which still ends them all before
	// the final phase. An empty, non-nil plan injects no faults.
	FaultPlan nemesis.Plan

	Topology          string   // broadcast topology, one of topology.Names()
	KeyCount          int      // txn and kafka key pool size; 0 = workload default
	MaxTxnLength      int      // txn length bound
	MaxWritesPerKey   int      // writes per key before it is retired
	ConsistencyModels []string // txn models to check

	Seed uint64 // randomness of generator, nemesis, latency and services; 0: from the clock

	LogStderr  bool // copy node stderr lines into the log
	LogNetSend bool // log every message when sent
	LogNetRecv bool // log every message when delivered

	// StoreRoot is where store/<workload>/<time>/ goes; empty writes
	// nothing (the command line's default is DefaultStoreRoot).
	StoreRoot string
	// Log receives the test log (console); nil discards it.
	Log io.Writer

	// Progress, when set, is called about once a second while the test
	// runs and once at each change of phase, for a live status line. It
	// must return quickly.
	Progress func(Progress)

	// RecoveryWait is the sleep before the final phase (Maelstrom: 10 s).
	RecoveryWait time.Duration
	// Strict makes the checks Maelstrom cannot do count in the verdict.
	Strict bool
}

// The settings derived from a Config, each in one place: what the
// workload is told (workloadEnv), what test.json records (describe), the
// network's settings (networkConfig), the nemesis's (nemesisConfig) and
// what each node process runs (processSpec). A new setting is added to
// Config, Defaults and Validate, and to these where it belongs.

// workloadEnv is what the workload is told of the test: its settings,
// a generator seeded from the run's seed, and the test log.
func (c *Config) workloadEnv(logf func(format string, args ...any)) *workload.Env {
	return &workload.Env{
		Nodes: c.NodeIDs, Concurrency: c.Concurrency, Latency: c.Latency,
		Topology: c.Topology, KeyCount: c.KeyCount, MaxTxnLength: c.MaxTxnLength,
		MaxWritesPerKey: c.MaxWritesPerKey, ConsistencyModels: c.ConsistencyModels,
		Rand: rand.New(rand.NewPCG(c.Seed, seedGenerator)), Logf: logf,
	}
}

// describe is the test as stored in test.json.
func (c *Config) describe() map[string]any {
	return map[string]any{
		"name": c.Workload, "workload": c.Workload, "bin": c.Bin, "args": c.Args, "in-process": c.Node != nil,
		"nodes": c.NodeIDs, "concurrency": c.Concurrency, "time-limit": c.TimeLimit.Seconds(), "rate": c.Rate,
		"latency": map[string]any{"mean": c.Latency.Milliseconds(), "dist": c.LatencyDist},
		"nemesis": c.Nemesis, "nemesis-interval": c.NemesisInterval.Seconds(), "availability": c.Availability,
		"topology": c.Topology, "key-count": c.KeyCount, "max-txn-length": c.MaxTxnLength,
		"max-writes-per-key": c.MaxWritesPerKey, "consistency-models": c.ConsistencyModels, "seed": c.Seed,
		"strict": c.Strict,
	}
}

// maxQueued bounds the message bodies waiting in the network's queues
// (see netsim.Config.MaxQueued): far above what any well-behaved run
// keeps in flight, far below what a flood would pile up.
const maxQueued = 32 << 20

// networkConfig is the simulated network's configuration; record takes
// its events.
func (c *Config) networkConfig(record func(netsim.Event)) netsim.Config {
	return netsim.Config{Latency: c.Latency, Dist: c.LatencyDist, Seed: c.Seed ^ seedLatency,
		Record: record, MaxQueued: maxQueued}
}

// nemesisConfig is the nemesis loop's configuration, relative time having
// begun at start.
func (c *Config) nemesisConfig(start time.Time) nemesis.Config {
	return nemesis.Config{Faults: c.Nemesis, Nodes: c.NodeIDs, Interval: c.NemesisInterval,
		Seed: c.Seed, Plan: c.FaultPlan, Start: start}
}

// processSpec is what each node process runs.
func (c *Config) processSpec() process.Spec {
	return process.Spec{Bin: c.Bin, Args: c.Args, Env: c.Env, Func: c.Node}
}

// The streams the run's randomness draws from its seed, one per use, so
// that each repeats on its own. (The nemesis keeps its streams; see
// nemesis.Config.Seed.)
const (
	seedGenerator = 0x67656e // the workload's generator
	seedLatency   = 0x6c6174 // the network's latencies (xor'd into the seed)
	seedGaps      = 0x726174 // the gaps between client operations
	seedFinal     = 0x66696e // the order the final phase starts its threads in
	seedServices  = 0x737663 // the services, plus their index
)

// Defaults fills unset fields with Maelstrom's defaults (see Config for
// the fields whose zero value means something else).
func (c *Config) Defaults() {
	if c.Workload == "" {
		c.Workload = DefaultWorkload
	}
	if len(c.NodeIDs) == 0 {
		c.NodeIDs = DefaultNodeIDs()
	}
	if c.Concurrency == 0 {
		if n, err := ParseConcurrency(DefaultConcurrency, len(c.NodeIDs)); err == nil {
			c.Concurrency = n
		}
	}
	if c.TimeLimit == 0 {
		c.TimeLimit = DefaultTimeLimit
	}
	if c.LatencyDist == "" {
		c.LatencyDist = DefaultLatencyDist
	}
	if c.NemesisInterval == 0 {
		c.NemesisInterval = DefaultNemesisInterval
	}
	if c.Topology == "" {
		c.Topology = DefaultTopology
	}
	if c.MaxTxnLength == 0 {
		c.MaxTxnLength = DefaultMaxTxnLength
	}
	if c.MaxWritesPerKey == 0 {
		c.MaxWritesPerKey = DefaultMaxWritesPerKey
	}
	if len(c.ConsistencyModels) == 0 {
		c.ConsistencyModels = []string{DefaultConsistencyModel}
	}
	if c.RecoveryWait == 0 {
		c.RecoveryWait = DefaultRecoveryWait
	}
}

// concurrencyRE is Jepsen's --concurrency syntax: an integer, optionally
// followed by n.
var concurrencyRE = regexp.MustCompile(`^(\d+)(n?)$`)

// ParseConcurrency resolves a --concurrency value for a test of nodes
// nodes: an integer K is K worker threads, Kn is K per node (Jepsen's
// cli.clj, parse-concurrency, which applies the multiplier after the
// node list is known). It refuses anything else, and a result below 1.
func ParseConcurrency(spec string, nodes int) (int, error) {
	m := concurrencyRE.FindStringSubmatch(spec)
	if m == nil {
		return 0, fmt.Errorf("--concurrency must be an integer, optionally followed by n (like 2n), got %q", spec)
	}
	k, err := strconv.Atoi(m[1])
	if err != nil || k < 1 {
		return 0, fmt.Errorf("--concurrency must be at least 1, got %q", spec)
	}
	if m[2] == "n" {
		k *= nodes
	}
	return k, nil
}

// Validate reports every problem with the configuration at once, like
// Maelstrom's option validation. It expects a Config that Defaults has
// filled.
func (c *Config) Validate() error {
	var errs []error
	known := false
	for _, n := range all.Names() {
		if n == c.Workload {
			known = true
		}
	}
	if !known {
		switch {
		case slices.Contains(workload.AllNames(), c.Workload):
			errs = append(errs, fmt.Errorf("workload %q is one of Maelstrom's but not implemented in glomers yet; this bench runs %s", c.Workload, strings.Join(all.Names(), ", ")))
		default:
			errs = append(errs, fmt.Errorf("unknown workload %q%s; this bench runs %s", c.Workload, didYouMean(c.Workload, workload.AllNames()), strings.Join(all.Names(), ", ")))
		}
	}
	if c.Node == nil && c.Bin == "" {
		errs = append(errs, errors.New("expected a --bin PATH_TO_BINARY to test"))
	}
	if len(c.NodeIDs) == 0 {
		errs = append(errs, errors.New("no nodes"))
	}
	seen := map[string]bool{}
	for _, id := range c.NodeIDs {
		if id == "" || strings.HasPrefix(id, "c") || seen[id] {
			errs = append(errs, fmt.Errorf("bad node id %q: ids must be distinct, non-empty and not start with c", id))
		}
		seen[id] = true
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("--concurrency must be at least 1, got %d", c.Concurrency))
	}
	if c.TimeLimit <= 0 {
		errs = append(errs, fmt.Errorf("--time-limit must be positive, got %v", c.TimeLimit))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("--rate must not be negative, got %v", c.Rate))
	}
	if err := c.networkConfig(nil).Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := nemesis.CheckFaults(c.Nemesis); err != nil {
		errs = append(errs, err)
	}
	if c.Node == nil && !process.PauseSupported && c.fault(nemesis.FaultPause) {
		errs = append(errs, fmt.Errorf("--nemesis pause needs SIGSTOP, which %s does not have; use partition or kill here", runtime.GOOS))
	}
	if c.FaultPlan != nil {
		if err := c.FaultPlan.Check(c.NodeIDs, c.Nemesis); err != nil {
			errs = append(errs, err)
		}
	}
	if err := topology.Check(c.Topology); err != nil {
		errs = append(errs, fmt.Errorf("--topology: %w", err))
	}
	if c.MaxTxnLength < 1 {
		errs = append(errs, fmt.Errorf("--max-txn-length must be at least 1, got %d", c.MaxTxnLength))
	}
	if c.MaxWritesPerKey < 1 {
		errs = append(errs, fmt.Errorf("--max-writes-per-key must be at least 1, got %d", c.MaxWritesPerKey))
	}
	if c.KeyCount < 0 {
		errs = append(errs, fmt.Errorf("--key-count must not be negative, got %d", c.KeyCount))
	}
	if c.NemesisInterval <= 0 {
		errs = append(errs, fmt.Errorf("--nemesis-interval must be positive, got %v", c.NemesisInterval))
	}
	if err := checker.ParseAvailability(c.Availability); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// didYouMean returns " (did you mean X?)" for the known name nearest a
// misspelled one, or "" when none is near.
func didYouMean(word string, known []string) string {
	if s, ok := suggest.Closest(word, known); ok {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

// fault reports whether --nemesis asks for fault.
func (c *Config) fault(fault string) bool {
	return slices.Contains(c.Nemesis, fault)
}

// NodeIDs returns the node list of --node-count n: n0, n1, …, n(n-1).
func NodeIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i)
	}
	return ids
}
