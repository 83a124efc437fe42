// Package workload defines what a test does to the nodes: the Workload
// interface, the Registry type and Call, the one RPC helper every client
// uses. Each workload lives in a package of its own below this one, as
// each has a namespace in Maelstrom's src/maelstrom/workload/*.clj,
// holding the messages its clients send, its operation generator, its
// final phase, the checker that judges the history when it has one of
// its own, and how its failures are explained (explain.go, an
// explain.Explainer on the workload):
//
//	echo       echo, its checker
//	uniqueids  unique-ids, its checker
//	broadcast  broadcast (checked by the generic set-full)
//	gset       g-set (checked by the generic set-full)
//	counter    g-counter and pn-counter, their checker
//	linkv      lin-kv (checked by the generic linearizable checker)
//	kafka      kafka, its checker, parser, cycle search and lag analysis
//	txn        txn-rw-register and txn-list-append (Elle's checkers, in
//	           checker/elle) and their visibility check
//
// Checks any workload may use are in package checker. A workload package
// imports this one, so this one cannot list them: package workload/all
// holds the registry of every workload the bench runs, and
// workload/workloadtest what their tests share.
package workload

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
)

// Env is what a workload knows of the test it runs in.
type Env struct {
	Nodes       []string      // server ids in node-list order
	Concurrency int           // worker threads
	Latency     time.Duration // mean inter-server latency (--latency)
	Topology    string        // --topology (broadcast)
	KeyCount    int           // --key-count, 0 when not given
	// MaxTxnLength and MaxWritesPerKey are --max-txn-length and
	// --max-writes-per-key (txn workloads, kafka).
	MaxTxnLength, MaxWritesPerKey int
	ConsistencyModels             []string // --consistency-models
	// Rand drives the generator. NextOp is never called concurrently, so
	// a workload may use it there without locking.
	Rand *rand.Rand
	// Logf writes a line to the test log.
	Logf func(format string, args ...any)
}

// Caller sends one request to the node a client is bound to and waits for
// the reply (or netsim.ErrTimeout).
type Caller func(ctx context.Context, body map[string]any, timeout time.Duration) (netsim.Reply, error)

// Workload is one kind of test.
type Workload interface {
	// Reusable reports whether a worker keeps its client after an
	// indeterminate (:info) result; when false it opens a new one.
	Reusable() bool
	// Setup runs once before the main phase with a caller per node
	// (broadcast sends topology here). An error aborts the test.
	Setup(ctx context.Context, callers map[string]Caller) error
	// NextOp returns the next main-phase operation for a free worker
	// thread whose current process id is process (only F, Value and
	// extra fields matter), or false when the generator is exhausted.
	NextOp(thread, process int) (history.Op, bool)
	// Invoke performs op through call and returns its completion: Type,
	// Value, Error and Exception set; the runner stamps the rest.
	Invoke(ctx context.Context, call Caller, op history.Op) history.Op
	// Final runs the final phase for one worker thread after recovery,
	// performing operations with do; nil when the workload has none.
	Final() func(ctx context.Context, thread int, do func(history.Op) history.Op)
	// Check analyses the whole history and returns the :workload result.
	Check(ops []history.Op) edn.Map
}

// ExtraChecker is implemented by workloads that can check more than
// Maelstrom does. Its result goes into the :glomers section of the
// results and counts in the verdict only under --strict.
type ExtraChecker interface {
	ExtraCheck(ops []history.Op) edn.Map
}

// FileWriter is implemented by workloads that write files of their own
// into the run's directory beside the bench's (kafka's realtime-lag.png),
// so the report need not guess from the history which workload ran.
type FileWriter interface {
	// Files lists the files, each with the function that writes it.
	Files() []File
}

// File is one file a workload writes after the run.
type File struct {
	Name string // the file's name in the run's directory
	// Write writes the file at path from the whole history, or nothing
	// when the history has nothing for it to show.
	Write func(path string, ops []history.Op) error
}

// MainPhaseEnder is implemented by workloads whose generator, like
// Jepsen's, stops hearing completions once the main phase's time limit
// has passed: Jepsen drops an exhausted phase's generator, so operations
// completing after it (kafka's offset trackers) go unseen by it.
type MainPhaseEnder interface{ MainPhaseDone() }

// Constructor builds a workload for an environment.
type Constructor func(env *Env) (Workload, error)

// Registry maps workload names to their constructors. Package
// workload/all holds the one this bench runs.
type Registry map[string]Constructor

// New returns the named workload.
func (r Registry) New(name string, env *Env) (Workload, error) {
	c, ok := r[name]
	if !ok {
		return nil, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(r.Names(), ", "))
	}
	return c(env)
}

// Names lists the registry's workloads, sorted.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AllNames lists every workload Maelstrom knows, implemented here or not.
func AllNames() []string {
	return []string{"broadcast", "echo", "g-counter", "g-set", "kafka", "lin-kv", "pn-counter", "txn-list-append", "txn-rw-register", "unique-ids"}
}
