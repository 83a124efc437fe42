// Package explain says in plain words why a run is invalid. Maelstrom
// leaves a learner with the results map and a Lamport diagram; this
// package turns each failing section of the results into findings (see
// results.Finding) tied to the exact operations and messages behind it:
// which values went missing and which messages carried them, which
// operations returned the same id, which transactions form a cycle.
//
// The generic sections (:availability, :stats, glomers' protocol checks)
// are explained here. A workload's own section is explained by the
// workload, which implements Explainer beside its checker, so that a
// workload's whole story (messages, generator, checker, explanation)
// stays in its package. The runner calls Explain once, after the
// analysis and only for a run that is not valid, so a valid run pays
// nothing for it.
package explain

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/results"
)

// Events calls yield with every network event in the order the network
// journalled them (sends, deliveries and drops, see netsim.Event) until
// yield returns false, and returns what kept it from reading them all.
type Events func(yield func(netsim.Event) bool) error

// Evidence is what an explanation is drawn from.
type Evidence struct {
	// Ops is the whole history, nemesis operations included.
	Ops []history.Op
	// Nodes are the server ids in node-list order, and Concurrency the
	// number of worker threads: together they tell which node a
	// process's requests went to (see NodeOf).
	Nodes       []string
	Concurrency int
	// Workload is the :workload section of the results, and Extra the
	// workload's part of :glomers (see workload.ExtraChecker), nil when
	// it has none.
	Workload, Extra edn.Map
	// Glomers is the whole :glomers section.
	Glomers edn.Map
	// Availability is the --availability the run asked for: "total", or
	// a fraction such as "0.99"; "" when none.
	Availability string
	// Journal is the run's network events; nil when no journal was
	// kept. Event times are on the history's clock, as operations' and
	// faults' are (the runner moves them from the network's, which
	// starts before the setup). Reading it may mean reading a file:
	// call it once per explanation at most.
	Journal Events
	// WriteFile writes a file into the run's folder (a drawing of an
	// example); nil when the run stores nothing.
	WriteFile func(name string, write func(w io.Writer) error) error

	faults []Fault
	parsed bool
}

// Explainer is implemented by workloads that explain what their checker
// found (and what their extra check found, when they have one).
type Explainer interface {
	// Explain returns the findings behind ev.Workload's :valid? false
	// (Section "workload") and ev.Extra's (Section "glomers"; the caller
	// marks them Advisory unless --strict), none for a section that is
	// valid. It is called once per run, only when one of the two is not
	// valid.
	Explain(ev *Evidence) []results.Finding
}

// NodeOf returns the node a client process sends its requests to, ""
// for the nemesis. A worker thread keeps its node for the whole run and
// takes process ids thread, thread+concurrency, ..., and thread t is
// bound to node t mod len(Nodes), as Maelstrom's client does (its
// open! picks the node by the process's thread).
func (ev *Evidence) NodeOf(process int) string {
	if process < 0 || len(ev.Nodes) == 0 || ev.Concurrency <= 0 {
		return ""
	}
	return ev.Nodes[(process%ev.Concurrency)%len(ev.Nodes)]
}

// Who names an operation's process and node for a sentence: "process 7
// (on n2)".
func (ev *Evidence) Who(op history.Op) string {
	if n := ev.NodeOf(op.Process); n != "" {
		return fmt.Sprintf("process %d (on %s)", op.Process, n)
	}
	return fmt.Sprintf("process %d", op.Process)
}

// At renders a time of the run (nanoseconds since it began) for a
// sentence: "at 3.21 s".
func At(ns int64) string {
	return fmt.Sprintf("at %.2f s", float64(ns)/1e9)
}

// Explain explains a composed result: one finding per reason a section
// is not valid, generic sections here, the workload's through wl when it
// is an Explainer. Findings of an advisory section (glomers' own checks
// without --strict) are marked Advisory.
func Explain(ev *Evidence, composed checker.Composed, wl any) results.Explanation {
	x := results.Explanation{Valid: composed.Validity()}
	ask := sync.OnceValue(func() []results.Finding { // the workload explains once
		if e, ok := wl.(Explainer); ok {
			return e.Explain(ev)
		}
		return nil
	})
	for _, s := range composed {
		if s.Validity() == checker.Valid {
			continue
		}
		m, _ := s.Result.(edn.Map)
		var found []results.Finding
		switch s.Name {
		case "availability":
			found = availability(ev, m)
		case "stats":
			found = stats(ev, m)
		case "glomers":
			found = glomers(ev)
		default:
			found = generic(s.Name, m)
		}
		if s.Name == "workload" || (s.Name == "glomers" && ev.Extra != nil && checker.ValidityOf(ev.Extra) != checker.Valid) {
			found = mergeWorkload(s.Name, found, ask())
		}
		for i := range found {
			found[i].Section = s.Name
			found[i].Advisory = s.Advisory
			if len(found[i].Examples) > results.MaxExamples {
				found[i].Examples = found[i].Examples[:results.MaxExamples]
			}
		}
		x.Findings = append(x.Findings, found...)
	}
	if len(x.Counting()) > 0 {
		// A line that broke the protocol silenced its node: whatever
		// failed the run, that is a cause of it, not only glomers' own
		// check, so it is told as one and given as a reason.
		for i := range x.Findings {
			if x.Findings[i].Kind == "protocol-error" {
				x.Findings[i].Advisory = false
			}
		}
		x.Findings = append(x.Findings, strays(ev)...)
	}
	return x
}

// strays explains replies no client could take, which glomers reports
// under :glomers without judging them: a node that answers without an
// integer in_reply_to sees its requests time out, and this says why.
func strays(ev *Evidence) []results.Finding {
	m, ok := ev.Glomers.Lookup("replies-without-in-reply-to").(edn.Map)
	if !ok || len(m) == 0 {
		return nil
	}
	var lines []string
	total := 0
	for _, e := range m {
		sub, _ := e.Val.(edn.Map)
		n, _ := sub.Lookup("count").(int)
		total += n
		lines = append(lines, fmt.Sprintf("%v sent %s to clients without an integer in_reply_to, the first: %v", e.Key, results.Plural(n, "message"), sub.Lookup("first")))
	}
	return []results.Finding{{Section: "glomers", Kind: "replies-without-in-reply-to", Count: total,
		Short: results.Plural(total, "reply") + " without in_reply_to",
		Summary: fmt.Sprintf("%s answered clients without an integer in_reply_to naming the request's msg_id, so no client could take %s as a reply and those requests timed out.",
			results.Plural(len(lines), "node"), results.Plural(total, "message")),
		Examples: examples(lines)}}
}

// mergeWorkload adds the workload's findings for section to found: for
// :workload they replace the generic one when there are any; for
// :glomers they join the protocol findings.
func mergeWorkload(section string, found, fromWorkload []results.Finding) []results.Finding {
	var mine []results.Finding
	for _, f := range fromWorkload {
		if f.Section == section || (f.Section == "" && section == "workload") {
			mine = append(mine, f)
		}
	}
	if section == "workload" {
		if len(mine) > 0 {
			return mine
		}
		return found
	}
	return append(found, mine...)
}

// generic explains a section nothing knows better: it names the keys of
// the section that hold something, so the learner knows where to look
// in results.edn.
func generic(section string, m edn.Map) []results.Finding {
	var keys []string
	for _, e := range m {
		k, ok := e.Key.(edn.Keyword)
		if !ok || k == "valid?" || empty(e.Val) {
			continue
		}
		keys = append(keys, ":"+string(k))
	}
	sum := fmt.Sprintf("The :%s checker found the history invalid", section)
	if len(keys) > 0 {
		sum += "; see " + strings.Join(keys, ", ") + " under :" + section + " in results.edn"
	}
	return []results.Finding{{Kind: "invalid", Count: 1, Short: section + " invalid", Summary: sum + "."}}
}

// empty reports whether an EDN value holds nothing worth pointing at.
func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case edn.Map:
		return len(v) == 0
	case edn.Vector:
		return len(v) == 0
	case edn.List:
		return len(v) == 0
	case edn.Set:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case int:
		return v == 0
	case int64:
		return v == 0
	}
	return false
}

// failures groups the client operations that did not end :ok (of kind f,
// or of every kind when f is "") by node and by error, most frequent
// first: "n2: 12 × net-timeout, 3 × error 11 temporarily-unavailable".
func failures(ev *Evidence, f string) (lines []string, total int) {
	counts := map[string]map[string]int{} // node → error → operations
	byNode := map[string]int{}
	for _, op := range ev.Ops {
		if !op.IsClient() || op.Type == history.Invoke || op.Type == history.OK || op.F == "crash" {
			continue
		}
		if f != "" && op.F != f {
			continue
		}
		node := ev.NodeOf(op.Process)
		if counts[node] == nil {
			counts[node] = map[string]int{}
		}
		counts[node][ErrorName(op)]++
		byNode[node]++
		total++
	}
	// Most frequent first, then by name.
	mostFirst := func(count map[string]int) func(a, b string) int {
		return func(a, b string) int { return cmp.Or(cmp.Compare(count[b], count[a]), cmp.Compare(a, b)) }
	}
	nodes := slices.SortedFunc(maps.Keys(byNode), mostFirst(byNode))
	for _, n := range nodes {
		errs := slices.SortedFunc(maps.Keys(counts[n]), mostFirst(counts[n]))
		parts := make([]string, len(errs))
		for i, e := range errs {
			parts[i] = fmt.Sprintf("%d × %s", counts[n][e], e)
		}
		name := n
		if name == "" {
			name = "unknown node"
		}
		lines = append(lines, fmt.Sprintf("%s: %s", name, strings.Join(parts, ", ")))
	}
	return lines, total
}

// ErrorName renders why an operation did not end :ok, as a learner would
// look it up: "timeout (no reply within the client's timeout)", "error
// 11 temporarily-unavailable", or the exception.
func ErrorName(op history.Op) string {
	switch e := op.Error.(type) {
	case edn.Keyword:
		if e == "net-timeout" {
			return "timeout (no reply in time)"
		}
		return string(e)
	case []any:
		if len(e) > 0 {
			name := fmt.Sprint(e[0])
			if k, ok := e[0].(edn.Keyword); ok {
				name = string(k)
			}
			if code, ok := codes[name]; ok {
				return fmt.Sprintf("error %d %s", code, name)
			}
			return name
		}
	case string:
		if op.Exception != "" {
			return op.Exception
		}
		return e
	case nil:
		if op.Exception != "" {
			return op.Exception
		}
		return "no reply"
	}
	return fmt.Sprint(op.Error)
}

// codes are Maelstrom's error codes by name, read once from the one
// table of them, package node's (doc/protocol.md, "Errors"): the codes
// it reserves are below 1000, and those it names below 100.
var codes = func() map[string]int {
	m := map[string]int{}
	for c := node.Code(0); c < 100; c++ {
		if name := c.String(); name != "unknown" {
			m[name] = int(c)
		}
	}
	return m
}()

func examples(lines []string) []results.Example {
	out := make([]results.Example, 0, min(len(lines), results.MaxExamples))
	for _, l := range lines[:min(len(lines), results.MaxExamples)] {
		out = append(out, results.Example{Text: l})
	}
	return out
}

// onNodes says over how many nodes the failures lines group spread, "
// on 3 nodes", or "" for none.
func onNodes(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return " on " + results.Plural(len(lines), "node")
}

// availability explains an :availability below what --availability asked.
func availability(ev *Evidence, m edn.Map) []results.Finding {
	lines, total := failures(ev, "")
	frac := m.Lookup("ok-fraction")
	want := ev.Availability
	asked := fmt.Sprintf("the %s that --availability %s asks", want, want)
	if want == "total" {
		want, asked = "1", "the 1 that --availability total asks (every operation)"
	}
	sum := fmt.Sprintf("Only %v of the operations ended :ok, below %s: %s failed or timed out%s",
		frac, asked, results.Plural(total, "operation"), onNodes(lines))
	return []results.Finding{{Kind: "availability", Count: total, Short: fmt.Sprintf("ok-fraction %v < %v", frac, want),
		Summary: sum + ".", Examples: examples(lines)}}
}

// stats explains a :stats that is not valid: kinds of operation of which
// not one ended :ok.
func stats(ev *Evidence, m edn.Map) []results.Finding {
	var out []results.Finding
	byF, _ := m.Lookup("by-f").(edn.Map)
	for _, e := range byF {
		sub, ok := e.Val.(edn.Map)
		if !ok || checker.ValidityOf(sub) == checker.Valid {
			continue
		}
		f := strings.TrimPrefix(fmt.Sprint(e.Key), ":")
		if k, ok := e.Key.(edn.Keyword); ok {
			f = string(k)
		}
		lines, total := failures(ev, f)
		sum := fmt.Sprintf("Not one :%s operation ended :ok: %s failed or timed out%s", f, results.Plural(total, "operation"), onNodes(lines))
		if total == 0 {
			sum = fmt.Sprintf("Not one :%s operation completed", f)
		}
		out = append(out, results.Finding{Kind: "no-ok", Count: total, Short: "no :" + f + " ok", Summary: sum + ".", Examples: examples(lines)})
	}
	if len(out) == 0 {
		return generic("stats", m)
	}
	return out
}

// glomers explains glomers' protocol checks: lines a node printed that
// broke Maelstrom's protocol, and replies no client could take.
func glomers(ev *Evidence) []results.Finding {
	var out []results.Finding
	if bad, ok := ev.Glomers.Lookup("protocol-errors").(edn.Map); ok && len(bad) > 0 {
		var lines []string
		for _, e := range bad {
			lines = append(lines, fmt.Sprintf("%v: %v", e.Key, e.Val))
		}
		out = append(out, results.Finding{Kind: "protocol-error", Count: len(bad),
			Short:    results.Plural(len(bad), "protocol error"),
			Summary:  fmt.Sprintf("%s printed a line that breaks Maelstrom's protocol, and the bench, as Maelstrom does, ignored everything it printed after that, replies included.", results.Plural(len(bad), "node")),
			Examples: examples(lines)})
	}
	return out
}
