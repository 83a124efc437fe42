// Package results is the typed summary of one run: its verdict, the
// checkers that failed it, messages per operation, the latency of :ok
// client operations and the operations by outcome. The runner computes
// it once (workbench.Summarise) and writes it to the run's folder as
// summary.json, beside Maelstrom's results.edn (the full results map,
// which stays byte for byte what Maelstrom prints) and results.json (the
// same map in JSON). The scoreboard, the report pages, workbenchtest and
// the challenge catalogue read this summary rather than walking the
// results map; figures only one workload has (broadcast's stable
// latencies, txn's visibility lag) stay in the map, under the workload's
// own section.
package results

import (
	"encoding/json"
	"fmt"

	"github.com/glomers/glomers/workbench/checker"
)

// File is the summary's name in a run's folder.
const File = "summary.json"

// Summary is what one run comes to.
type Summary struct {
	// Valid is the run's verdict, the :valid? of its results map
	// (glomers' own checks count only with --strict).
	Valid checker.Validity `json:"valid"`
	// Failing names the top-level sections of the results map that
	// count toward the verdict and did not say true (:workload,
	// :availability, …), in the order printed; empty for a valid run.
	Failing []string `json:"failing,omitempty"`
	// Reasons says in a few words why each failing check failed ("lost
	// 30 values", "G1a ×12"), from the run's explanation (see
	// Explanation.Reasons); empty for a valid run.
	Reasons []string `json:"reasons,omitempty"`
	// MsgsPerOp is :net's messages per client operation; nil when no
	// operation was invoked.
	MsgsPerOp *MsgsPerOp `json:"msgs-per-op,omitempty"`
	// OKFraction is :availability :ok-fraction: :ok operations over
	// invocations (1 when there were none).
	OKFraction float32 `json:"ok-fraction"`
	// Ops counts the client operations by how they ended.
	Ops Ops `json:"ops"`
	// Latency is the quantiles of the latency of :ok client operations;
	// nil when none ended :ok.
	Latency *Latency `json:"latency-ms,omitempty"`
	// Dir is the run's folder in the store, "" when nothing was stored.
	Dir string `json:"dir,omitempty"`
	// Seed is the run's seed: the same seed makes the same choices.
	Seed uint64 `json:"seed"`
}

// MsgsPerOp is :net :servers :msgs-per-op (messages among nodes and
// services per client operation, the figure Gossip Glomers' targets
// use) and :net :all :msgs-per-op (client messages included), float32
// as Maelstrom prints them.
type MsgsPerOp struct {
	Servers float32 `json:"servers"`
	All     float32 `json:"all"`
}

// Ops counts client operations (nemesis operations left out), each
// invocation paired with its completion as history.Pairs pairs them.
type Ops struct {
	Invoked int `json:"invoked"`
	OK      int `json:"ok"`
	Fail    int `json:"fail"`
	Info    int `json:"info"`
	// Pending counts invocations the history never completed.
	Pending int `json:"pending"`
	// NoRequest counts the operations that did not end :ok and send no
	// request at all (kafka's :crash, :info by design).
	NoRequest int `json:"no-request"`
	// Refused counts the :fail completions a correct key-value store
	// gives for the data's sake (errors 20 and 22, see
	// linkv.RefusedForTheData): served, though not :ok.
	Refused int `json:"refused"`
}

// Completed is the number of completions, :stats :count.
func (o Ops) Completed() int { return o.OK + o.Fail + o.Info }

// NotOKRequests counts the requests that did not end :ok: every
// invocation but the :ok ones and those that send no request.
func (o Ops) NotOKRequests() int { return o.Invoked - o.OK - o.NoRequest }

// ServedFraction is the share of invocations the store served (:ok, or
// refused for the data's sake); ok is false when nothing was invoked.
func (o Ops) ServedFraction() (fraction float64, ok bool) {
	if o.Invoked == 0 {
		return 0, false
	}
	return float64(o.OK+o.Refused) / float64(o.Invoked), true
}

// Latency holds quantiles of a latency in milliseconds, by Jepsen's rule
// (the value at index ⌊n·p⌋ of the sorted values, see
// checker.Quantile).
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Marshal returns the summary as indented JSON with a final newline, as
// summary.json holds it.
func (s Summary) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("results: summary: %w", err)
	}
	return append(b, '\n'), nil
}

// Parse reads a summary.json.
func Parse(b []byte) (Summary, error) {
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return Summary{}, fmt.Errorf("results: %s: %w", File, err)
	}
	return s, nil
}
