package txn

import (
	"fmt"
	"sort"
	"strings"

	"github.com/glomers/glomers/workbench/checker/elle"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/results"
)

// anomalyInfo says what an anomaly type means, as a noun phrase of one
// case ("aborted read") and a clause of what it is.
type anomalyInfo struct {
	noun, what string
}

// anomalyInfos are the non-cycle anomaly types of both checkers.
var anomalyInfos = map[string]anomalyInfo{
	"G1a": {"aborted read", "a committed transaction read a value that only a failed transaction wrote"},
	"G1b": {"intermediate read", "a committed transaction read a value that its writer overwrote before it committed"},
	"internal": {"internal inconsistency",
		"a transaction read something its own earlier micro-operations rule out"},
	"lost-update": {"lost update",
		"several committed transactions read the same version of a key and each wrote the key, so all but one of their updates were overwritten unseen"},
	"cyclic-versions": {"cyclic version order",
		"the versions of a key follow each other in a circle (a transaction read one and then wrote another)"},
	"future-read": {"future read", "a transaction read an element that it appends only later"},
	"duplicate-elements": {"duplicated element",
		"a read returned a list holding the same appended element more than once"},
	"incompatible-order": {"incompatible order",
		"two reads of a key disagree on the order of its elements: neither list is a prefix of the other"},
	"dirty-update": {"dirty update",
		"a committed append follows an append of a failed transaction in the key's list"},
	"cycle-search-timeout": {"cycle search that timed out",
		"the search for cycles ran out of time in a large component of the dependency graph"},
	"empty-transaction-graph": {"empty transaction graph",
		"no transaction completed in a way the checker could order, so nothing could be checked"},
}

// caseTeller tells the cases of the anomaly types that are not cycles:
// aborted and intermediate reads, lost updates, and what a single
// transaction or key shows wrong on its own.
type caseTeller struct {
	teller
}

// finding explains the cases of an anomaly type that is not a cycle.
func (x caseTeller) finding(t string, cases []edn.Map) results.Finding {
	info, ok := anomalyInfos[t]
	if !ok {
		info = anomalyInfo{t, "Elle reported " + t}
	}
	f := results.Finding{Summary: fmt.Sprintf("%s (%s): %s", results.Plural(len(cases), info.noun), t, info.what)}
	why := map[string]int{} // G1a: how the writers failed; lost-update: on which nodes
	last := ""              // a transaction that read a key twice makes two equal cases
	for _, c := range cases {
		if cause := x.cause(t, c); cause != "" {
			why[cause]++
		}
		if len(f.Examples) >= results.MaxExamples {
			continue
		}
		if ex := x.story(t, c); ex.Text != "" && ex.Text != last {
			f.Examples = append(f.Examples, ex)
			last = ex.Text
		}
	}
	f.Summary += causes(t, why, len(cases)) + forbids(t)
	return f
}

// causes renders what the cases' causes add up to, "" when they tell
// nothing.
func causes(t string, why map[string]int, total int) string {
	if len(why) == 0 {
		return ""
	}
	type kv struct {
		k string
		n int
	}
	var l []kv
	for k, n := range why {
		l = append(l, kv{k, n})
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].n != l[j].n {
			return l[i].n > l[j].n
		}
		return l[i].k < l[j].k
	})
	parts := make([]string, 0, min(len(l), 3))
	for _, e := range l[:min(len(l), 3)] {
		if t == "lost-update" {
			parts = append(parts, fmt.Sprintf("%s in %s", e.k, results.Plural(e.n, "case")))
		} else {
			parts = append(parts, fmt.Sprintf("%d × %s", e.n, e.k))
		}
	}
	switch t {
	case "G1a", "dirty-update":
		return "; the failed writers' errors: " + strings.Join(parts, ", ")
	case "lost-update":
		return "; the competing writers ran on " + strings.Join(parts, ", ")
	}
	return ""
}

// indexOf reads the history index of an operation printed in a case.
func indexOf(v any) (int, bool) {
	m, ok := v.(edn.Map)
	if !ok {
		return 0, false
	}
	return elle.OpIndex(m)
}

// orComma is el, or a comma when el is empty: "read key 1 = 5," or
// "read key 1 = [1 5], holding 5,".
func orComma(el string) string {
	if el == "" {
		return ","
	}
	return el
}

// did tells what a micro-operation did in words: "read key 9 = 5",
// "wrote 3 to key 9", "appended 3 to key 9".
func did(v any) string {
	m, ok := v.([]any)
	if !ok || len(m) != 3 {
		return "did " + val(v)
	}
	switch f := val(m[0]); f {
	case ":r", "r":
		return fmt.Sprintf("read key %s = %s", val(m[1]), val(m[2]))
	case ":w", "w":
		return fmt.Sprintf("wrote %s to key %s", val(m[2]), val(m[1]))
	case ":append", "append":
		return fmt.Sprintf("appended %s to key %s", val(m[2]), val(m[1]))
	}
	return "did " + mop(v)
}

// cause tells the cause of one case when the evidence tells one:
// how a G1a or dirty-update writer failed, on which nodes the writers of
// a lost update ran.
func (x caseTeller) cause(t string, c edn.Map) string {
	switch t {
	case "G1a":
		if w, ok := indexOf(c.Lookup("writer")); ok {
			if wop, ok := x.op(w); ok {
				return explain.ErrorName(wop)
			}
		}
	case "dirty-update":
		if txns, _ := c.Lookup("txns").(edn.Vector); len(txns) > 0 {
			if w, ok := indexOf(txns[0]); ok {
				if wop, ok := x.op(w); ok {
					return explain.ErrorName(wop)
				}
			}
		}
	case "lost-update":
		nodes := map[string]bool{}
		for _, tm := range casesOf(c.Lookup("txns")) {
			if ti, ok := elle.OpIndex(tm); ok {
				if n := x.node(ti); n != "" {
					nodes[n] = true
				}
			}
		}
		switch len(nodes) {
		case 0:
		case 1:
			return "one node (" + joinSorted(nodes) + ")"
		default:
			return "different nodes (" + joinSorted(nodes) + ")"
		}
	}
	return ""
}

// story tells one case of a non-cycle anomaly, by the family of its
// type; an empty Text when the case lacks what its story needs.
func (x caseTeller) story(t string, c edn.Map) results.Example {
	switch t {
	case "G1a", "G1b":
		return x.g1Story(t, c)
	case "internal", "future-read", "duplicate-elements":
		return x.selfStory(t, c)
	case "lost-update":
		return x.lostUpdateStory(c)
	case "dirty-update":
		return x.dirtyUpdateStory(c)
	}
	return keyStory(t, c)
}

// g1Story tells an aborted (G1a) or intermediate (G1b) read: T2 read
// what T1 wrote, though T1 failed or wrote again before it committed.
func (x caseTeller) g1Story(t string, c edn.Map) (ex results.Example) {
	op, opOK := indexOf(c.Lookup("op"))
	w, wOK := indexOf(c.Lookup("writer"))
	if !opOK || !wOK {
		return ex
	}
	m := c.Lookup("mop")
	el, wrote := "", "written"
	if e, ok := c.Get(edn.Keyword("element")); ok {
		el, wrote = ", holding "+val(e)+",", "appended"
	}
	ex.Lines = []string{"T1 = " + x.txn(w), "T2 = " + x.txn(op)}
	what, later := "a value T1 wrote", "and then overwrote"
	if wrote == "appended" {
		what, later = "an element T1 appended", "before appending to the key again"
	}
	if t == "G1a" {
		ex.Text = fmt.Sprintf("T2 (op %d) %s%s %s only by T1 (op %d), which failed", op, did(m), orComma(el), wrote, w)
		ex.Lines = append(ex.Lines, fmt.Sprintf("T2 %s%s %s; but T1 failed, so T2 saw a write that was never committed.", did(m), orComma(el), what))
	} else {
		ex.Text = fmt.Sprintf("T2 (op %d) %s%s %s %s before it committed", op, did(m), orComma(el), what, later)
		ex.Lines = append(ex.Lines, fmt.Sprintf("T2 %s%s %s %s in the same transaction: T2 saw T1 half done.", did(m), orComma(el), what, later))
	}
	return ex
}

// selfStory tells an anomaly one transaction shows on its own: a read
// its earlier micro-operations rule out (internal), an element it
// appends only later (future-read), an element read twice
// (duplicate-elements).
func (x caseTeller) selfStory(t string, c edn.Map) (ex results.Example) {
	op, ok := indexOf(c.Lookup("op"))
	if !ok {
		return ex
	}
	switch t {
	case "internal":
		ex.Text = fmt.Sprintf("op %d %s, though its own earlier micro-operations imply %s", op, did(c.Lookup("mop")), val(c.Lookup("expected")))
	case "future-read":
		ex.Text = fmt.Sprintf("op %d %s, holding %s, which it appends only later", op, did(c.Lookup("mop")), val(c.Lookup("element")))
	case "duplicate-elements":
		var dups []string
		if dm, ok := c.Lookup("duplicates").(edn.Map); ok {
			for _, e := range dm {
				dups = append(dups, fmt.Sprintf("%s appears %s times", val(e.Key), val(e.Val)))
			}
		}
		ex.Text = fmt.Sprintf("op %d %s, in which %s", op, did(c.Lookup("mop")), strings.Join(dups, ", "))
	}
	ex.Lines = []string{"T1 = " + x.txn(op)}
	return ex
}

// lostUpdateStory tells a lost update: transactions that read the same
// version of a key and each wrote it.
func (x caseTeller) lostUpdateStory(c edn.Map) (ex results.Example) {
	txns := casesOf(c.Lookup("txns"))
	k, v := val(c.Lookup("key")), val(c.Lookup("value"))
	var ids []string
	for i, tm := range txns {
		if ti, ok := elle.OpIndex(tm); ok {
			ex.Lines = append(ex.Lines, fmt.Sprintf("%s = %s", label(i), x.txn(ti)))
			ids = append(ids, fmt.Sprint(ti))
		}
	}
	ex.Text = fmt.Sprintf("%s (ops %s) read key %s = %s and then each wrote key %s", results.Plural(len(txns), "transaction"), strings.Join(ids, ", "), k, v, k)
	ex.Lines = append(ex.Lines, fmt.Sprintf("Each of %s read key %s = %s and wrote it, and all committed: whichever came last overwrote the others' updates without having seen them.",
		strings.Join(labels(len(txns)), ", "), k, v))
	return ex
}

// dirtyUpdateStory tells a dirty update: a key's list where a committed
// append follows a failed one.
func (x caseTeller) dirtyUpdateStory(c edn.Map) (ex results.Example) {
	txns, _ := c.Lookup("txns").(edn.Vector)
	ex.Text = fmt.Sprintf("key %s holds %s", val(c.Lookup("key")), val(c.Lookup("values")))
	if len(txns) > 0 {
		if ti, ok := indexOf(txns[0]); ok {
			ex.Lines = append(ex.Lines, "failed: "+x.txn(ti))
		}
		if ti, ok := indexOf(txns[len(txns)-1]); ok {
			ex.Lines = append(ex.Lines, "committed after it: "+x.txn(ti))
		}
	}
	return ex
}

// keyStory tells, in one sentence and without transactions, the cases
// that name none: a key read in incompatible orders, versions in a
// circle, a cycle search that gave up, and any type not known here.
func keyStory(t string, c edn.Map) (ex results.Example) {
	switch t {
	case "incompatible-order":
		vs, _ := c.Lookup("values").(edn.Vector)
		if len(vs) == 2 {
			ex.Text = fmt.Sprintf("key %s was read as %s and as %s", val(c.Lookup("key")), val(vs[0]), val(vs[1]))
		}
	case "cyclic-versions":
		ex.Text = fmt.Sprintf("the versions %s of key %s follow each other in a circle", val(c.Lookup("scc")), val(c.Lookup("key")))
	case "cycle-search-timeout":
		ex.Text = fmt.Sprintf("the search for %s gave up in a component of %v transactions", val(c.Lookup("anomaly-spec-type")), val(c.Lookup("scc-size")))
	default:
		if c != nil {
			ex.Text = val(c)
		}
	}
	return ex
}
