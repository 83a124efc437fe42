// Package workbench runs one Maelstrom-style test: it starts the nodes,
// the services and the simulated network, drives the workload's clients
// and the nemesis, runs the final phase, checks the history and stores
// everything under store/. It is a pure-Go re-implementation of
// `maelstrom test` as Maelstrom 0.2.4 runs it (src/maelstrom/core.clj
// and the Jepsen 0.3.7 it builds on); each part names the source it
// follows.
package workbench

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/process"
	"github.com/glomers/glomers/workbench/workload"
)

// Config is one test, as the command line describes it. The zero values
// of optional fields mean Maelstrom's defaults (see Defaults).
type Config struct {
	Workload string   // -w: workload name
	Bin      string   // --bin: node binary
	Args     []string // positional arguments, passed to the binary
	Env      []string // extra environment variables for the binary (KEY=VALUE)
	// Node, when set, runs every node in-process instead of Bin.
	Node process.Func

	NodeIDs     []string      // node ids (from --node-count, --node or the default n1…n5)
	Concurrency int           // worker threads
	TimeLimit   time.Duration // main phase duration
	Rate        float64       // total client operations per second
	Latency     time.Duration // mean inter-server latency
	LatencyDist string        // constant, uniform or exponential

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

	Topology          string   // broadcast topology
	KeyCount          int      // txn and kafka key pool size; 0 = workload default
	MaxTxnLength      int      // txn length bound
	MaxWritesPerKey   int      // writes per key before it is retired
	ConsistencyModels []string // txn models to check

	Seed uint64 // randomness of generator, nemesis, latency and services

	LogStderr  bool // copy node stderr lines into the log
	LogNetSend bool // log every message when sent
	LogNetRecv bool // log every message when delivered

	// StoreRoot is where store/<workload>/<time>/ goes; empty writes nothing.
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

// Defaults fills unset fields with Maelstrom's defaults.
func (c *Config) Defaults() {
	if c.Workload == "" {
		c.Workload = "lin-kv"
	}
	if len(c.NodeIDs) == 0 {
		c.NodeIDs = []string{"n1", "n2", "n3", "n4", "n5"}
	}
	if c.Concurrency == 0 {
		c.Concurrency = len(c.NodeIDs)
	}
	if c.TimeLimit == 0 {
		c.TimeLimit = 60 * time.Second
	}
	if c.LatencyDist == "" {
		c.LatencyDist = netsim.Constant
	}
	if c.NemesisInterval == 0 {
		c.NemesisInterval = 10 * time.Second
	}
	if c.Topology == "" {
		c.Topology = "grid"
	}
	if c.MaxTxnLength == 0 {
		c.MaxTxnLength = 4
	}
	if c.MaxWritesPerKey == 0 {
		c.MaxWritesPerKey = 16
	}
	if len(c.ConsistencyModels) == 0 {
		c.ConsistencyModels = []string{"strict-serializable"}
	}
	if c.RecoveryWait == 0 {
		c.RecoveryWait = 10 * time.Second
	}
}

// Validate reports every problem with the configuration at once, like
// Maelstrom's option validation.
func (c *Config) Validate() error {
	var errs []error
	known := false
	for _, n := range workload.Names() {
		if n == c.Workload {
			known = true
		}
	}
	if !known {
		maelstrom := false
		for _, n := range workload.AllNames() {
			maelstrom = maelstrom || n == c.Workload
		}
		if maelstrom {
			errs = append(errs, fmt.Errorf("workload %q is one of Maelstrom's but not implemented in glomers yet; this bench runs %s", c.Workload, strings.Join(workload.Names(), ", ")))
		} else {
			errs = append(errs, fmt.Errorf("unknown workload %q; this bench runs %s", c.Workload, strings.Join(workload.Names(), ", ")))
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
	if err := (netsim.Config{Latency: c.Latency, Dist: c.LatencyDist}).Validate(); err != nil {
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
	if c.NemesisInterval <= 0 {
		errs = append(errs, fmt.Errorf("--nemesis-interval must be positive, got %v", c.NemesisInterval))
	}
	if err := checker.ParseAvailability(c.Availability); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
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
