package linkv

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/results"
)

// The explanation of a key that is not linearizable is the smallest
// window of its operations that still cannot be linearized, found by
// shrinking the key's history:
//
//  1. The prefix up to the return of the first operation the checker
//     could not honour already fails; operations invoked after that
//     return play no part in the refutation.
//  2. The window's start t0 moves as late as it can while the window
//     still fails. Cutting a history at t0 is sound only with care: an
//     operation that completed before t0 is dropped, the register may
//     hold any value at t0, and an operation running across t0 may have
//     taken effect before t0 (then it was perhaps overwritten) or after:
//     a write or cas across t0 becomes one whose outcome is unknown
//     (it may or may not take effect, at any time after its call), and a
//     read across t0 is dropped. Any linearization of the whole history
//     then yields one of the window, so a window that cannot be
//     linearized proves the history cannot be either.
//  3. Reads inside the window that the refutation does not need are
//     dropped (dropping a read never makes a linearizable history
//     non-linearizable).
//
// Each step runs the checker's linear search with a timeout, the steps
// are capped, and so is the number of keys explained, so the cost stays
// bounded whatever the history.
const (
	// stepTimeout bounds one check of a window.
	stepTimeout = 500 * time.Millisecond
	// keyBudget bounds the shrinking of one key's window.
	keyBudget = time.Second
	// maxSteps caps the window checks per key.
	maxSteps = 64
	// totalBudget bounds the whole explanation; keys left when it runs
	// out are counted but not shrunk.
	totalBudget = 5 * time.Second
	// visualizeTimeout bounds porcupine's verbose check of a window.
	visualizeTimeout = time.Second
	// maxPictures caps the porcupine visualizations written per run.
	maxPictures = 5
)

// Explain implements explain.Explainer: one finding for the keys whose
// history is not linearizable, each example the smallest window of a
// key's operations that cannot be linearized, told as a story, with
// porcupine's visualization of it; and one for keys the checker could
// not decide.
func (*linKV) Explain(ev *explain.Evidence) []results.Finding {
	return explainKV(ev, time.Now().Add(totalBudget))
}

// explainKV is Explain with the time the explanation must end by.
func explainKV(ev *explain.Evidence, deadline time.Time) []results.Finding {
	res, _ := ev.Workload.Lookup("results").(edn.Map)
	var invalid, unknown []edn.Entry // the keys' entries of :results
	for _, e := range res {
		sub, _ := e.Val.(edn.Map)
		switch checker.ValidityOf(sub) {
		case checker.Invalid:
			invalid = append(invalid, e)
		case checker.Unknown:
			unknown = append(unknown, e)
		}
	}
	var out []results.Finding
	if len(invalid) > 0 {
		out = append(out, explainInvalid(ev, invalid, deadline))
	}
	if len(unknown) > 0 {
		names := make([]string, len(unknown))
		var examples []results.Example
		for i, e := range unknown {
			names[i] = history.Key(e.Key)
			if len(examples) < results.MaxExamples {
				examples = append(examples, results.Example{Text: fmt.Sprintf("key %s: %v", names[i], linearizable(e).Lookup("error"))})
			}
		}
		out = append(out, results.Finding{Kind: "unknown", Count: len(unknown),
			Short: results.Plural(len(unknown), "key") + " undecided",
			Summary: fmt.Sprintf("The linearizability check could not decide %s (%s) in time, so the verdict is unknown rather than valid.",
				results.Plural(len(unknown), "key"), strings.Join(names[:min(len(names), 10)], ", ")),
			Examples: examples})
	}
	return out
}

// explainInvalid explains the keys that are not linearizable, given by
// their entries of :results.
func explainInvalid(ev *explain.Evidence, invalid []edn.Entry, deadline time.Time) results.Finding {
	f := results.Finding{Kind: "not-linearizable", Count: len(invalid)}
	if len(invalid) == 1 {
		f.Short = "key " + history.Key(invalid[0].Key) + " not linearizable"
	} else {
		f.Short = results.Plural(len(invalid), "key") + " not linearizable"
	}
	if len(f.Short) > 24 { // a long key's name: count it instead
		f.Short = results.Plural(len(invalid), "key") + " not linearizable"
	}
	pictures := 0
	kinds := map[string]int{} // the windows' kinds of reason, see window.reason
	// The keys to shrink, and how far to read each one's history.
	upTo := map[string]int{}
	for _, e := range invalid[:min(len(invalid), results.MaxExamples)] {
		upTo[history.Key(e.Key)] = failingIndex(linearizable(e))
	}
	byKey := keyOps(ev.Ops, upTo)
	for _, e := range invalid {
		if len(f.Examples) >= results.MaxExamples {
			break
		}
		name := history.Key(e.Key)
		var w *window
		if ops := byKey[name]; time.Now().Before(deadline) && len(ops) > 0 {
			until := time.Now().Add(keyBudget)
			if until.After(deadline) {
				until = deadline
			}
			if w = shrink(ops, upTo[name], until); w != nil {
				w.key = e.Key
			}
		}
		if w == nil {
			f.Examples = append(f.Examples, results.Example{Text: fmt.Sprintf("key %s: not linearizable (no smaller window was found in time; see :workload :results in results.edn)", name)})
			continue
		}
		kind, why := w.reason(ev)
		kinds[kind]++
		ex := w.example(ev, name, why)
		if pictures < maxPictures && ev.WriteFile != nil && time.Now().Before(deadline) {
			if file := visualize(ev, name, w); file != "" {
				ex.File = file
				ex.Text += " (porcupine's view: " + file + ")"
				pictures++
			}
		}
		f.Examples = append(f.Examples, ex)
	}
	sum := keyList(invalid) + " not linearizable"
	var why []string
	for _, k := range []struct{ kind, text string }{
		{"stale", "saw a value already overwritten before it began"},
		{"unwritten", "saw a value no operation had written"},
		{"order", "saw a value no order of the operations around it allows"},
	} {
		if n := kinds[k.kind]; n > 0 {
			if len(invalid) == 1 {
				why = append(why, "an operation "+k.text)
			} else {
				why = append(why, fmt.Sprintf("on %s an operation %s", results.Plural(n, "key"), k.text))
			}
		}
	}
	if len(why) > 0 {
		sum += ": " + strings.Join(why, "; ")
		if told := kinds["stale"] + kinds["unwritten"] + kinds["order"]; told < len(invalid) {
			sum += fmt.Sprintf(" (of the %d keys examined)", told)
		}
	}
	f.Summary = sum + "."
	return f
}

// keyList names the keys of entries for a sentence: "Key 3 is", "3 keys
// (0, 1, 4) are".
func keyList(entries []edn.Entry) string {
	if len(entries) == 1 {
		return "Key " + history.Key(entries[0].Key) + " is"
	}
	names := make([]string, 0, min(len(entries), 8))
	for _, e := range entries[:min(len(entries), 8)] {
		names = append(names, history.Key(e.Key))
	}
	if len(entries) > 8 {
		names = append(names, "…")
	}
	return fmt.Sprintf("%s (%s) are", results.Plural(len(entries), "key"), strings.Join(names, ", "))
}

// keyOps returns the operations of the keys upTo names (by their
// history.Key) with the values of a single register, as
// checker.SplitKeys gives them, in one pass that reads the history only
// as far as it needs: for each key, up to the completion at index
// upTo[key] and the completions of that key's operations still running
// then (all of it when upTo[key] is negative). An explanation thus pays
// for the part of the history before the failures, not for all of it.
func keyOps(ops []history.Op, upTo map[string]int) map[string][]history.Op {
	out := map[string][]history.Op{}
	running := map[int]string{} // process → the key of its open invocation
	open := map[string]int{}    // key → its open invocations
	left := len(upTo)           // keys not done yet
	done := map[string]bool{}
	for _, op := range ops {
		if left == 0 {
			break
		}
		if !op.IsClient() {
			continue
		}
		kv, ok := op.Value.([]any)
		if op.Type == history.Invoke {
			if !ok || len(kv) != 2 {
				continue
			}
			key := history.Key(kv[0])
			bound, wanted := upTo[key]
			if !wanted || done[key] {
				continue
			}
			if bound >= 0 && op.Index > bound {
				if open[key] == 0 {
					done[key] = true
					left--
				}
				continue
			}
			running[op.Process] = key
			open[key]++
			op.Value = kv[1]
			out[key] = append(out[key], op)
			continue
		}
		key, isOpen := running[op.Process]
		if !isOpen {
			continue
		}
		delete(running, op.Process)
		open[key]--
		if ok && len(kv) == 2 && history.Key(kv[0]) == key {
			op.Value = kv[1]
		} else if op.Type == history.OK {
			continue // malformed: the checker said so already
		}
		out[key] = append(out[key], op)
		if bound := upTo[key]; bound >= 0 && op.Index > bound && open[key] == 0 && !done[key] {
			done[key] = true
			left--
		}
	}
	return out
}

// failingIndex returns the history index of the operation a Knossos-style
// counter-example names (:op :index), -1 when there is none.
func failingIndex(lin edn.Map) int {
	if lin.Lookup("analyzer") != edn.Keyword("linear") {
		return -1 // porcupine's stuck op need not end the shortest failing prefix
	}
	op, _ := lin.Lookup("op").(edn.Map)
	switch i := op.Lookup("index").(type) {
	case int:
		return i
	case int64:
		return int(i)
	}
	return -1
}

// window is a part of one key's history that cannot be linearized.
type window struct {
	key any
	// all is the key's whole history as porcupine operations; ops the
	// window's, with operations running across its start turned into
	// ones of unknown outcome. Both are in call order: shrink sorts all,
	// and every step only filters it.
	all, ops []porcupine.Operation
	// inits are the states the register may start the window in.
	inits []any
	// failing is the operation of ops whose completion cannot be
	// honoured.
	failing *porcupine.Operation
	// start is the window's start t0 (its first call when nothing was
	// cut).
	start int64
}

// shrink finds a small window of one key's operations (values of a
// single register) that cannot be linearized. failIndex is the history
// index of the completion the checker could not honour, -1 when unknown.
// It returns nil when the key's history is linearizable after all, or
// when the search ran out of time before finding the first failure.
func shrink(ops []history.Op, failIndex int, deadline time.Time) *window {
	all, err := checker.RegisterOperations(ops)
	if err != nil || len(all) == 0 {
		return nil
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Call < all[j].Call })
	s := &shrinker{all: all, deadline: deadline}
	w := s.failingPrefix(failIndex)
	if w == nil {
		return nil
	}
	s.latestStart(w)
	s.dropReads(w)
	// Operations invoked after the failing return play no part.
	w.ops = slices.DeleteFunc(w.ops, func(p porcupine.Operation) bool { return p.Call > w.failing.Return })
	w.failing = find(w.ops, w.failing.Metadata)
	if w.failing == nil {
		return nil
	}
	return w
}

// shrinker narrows one key's failing history down to a window, within a
// budget of checks and time.
type shrinker struct {
	all      []porcupine.Operation // the key's operations by call time
	deadline time.Time
	steps    int // checks made so far
}

// check reports the first completion of pops no linearization from any
// of inits honours (nil when all are), and false when the budget is
// spent or the check did not finish.
func (s *shrinker) check(pops []porcupine.Operation, inits []any) (*porcupine.Operation, bool) {
	left := time.Until(s.deadline)
	if s.steps >= maxSteps || left <= 0 {
		return nil, false
	}
	s.steps++
	f, err := checker.FirstUnhonoured(pops, inits, min(left, stepTimeout))
	return f, err == nil
}

// failingPrefix is step 1, the window's end: the operations called up
// to the return of the first completion no linearization honours. The
// checker's counter-example names that completion (its linear search is
// FirstUnhonoured's from a fresh register): trust it rather than search
// the prefix again, which would cost as much as the analysis did.
func (s *shrinker) failingPrefix(failIndex int) *window {
	var failing *porcupine.Operation
	for i := range s.all {
		if c := origin(s.all[i]).Complete; failIndex >= 0 && c != nil && c.Index == failIndex && c.Type == history.OK {
			failing = &s.all[i]
		}
	}
	fresh := []any{nil}
	if failing == nil {
		f, ok := s.check(s.all, fresh)
		if !ok || f == nil {
			return nil
		}
		failing = f
	}
	var prefix []porcupine.Operation
	for _, p := range s.all {
		if p.Call <= failing.Return {
			prefix = append(prefix, p)
		}
	}
	return &window{all: s.all, ops: prefix, inits: fresh, failing: failing, start: s.all[0].Call}
}

// latestStart is step 2, the window's start: the latest call time from
// which the window still fails, with the register in any state written
// in the history at the cut, searched by galloping back from the end,
// then bisecting.
func (s *shrinker) latestStart(w *window) {
	values := registerValues(s.all)
	var starts []int64
	for _, p := range w.ops {
		if p.Call > w.start && (len(starts) == 0 || starts[len(starts)-1] != p.Call) {
			starts = append(starts, p.Call)
		}
	}
	base := w.ops
	try := func(i int) bool { // window from starts[i]
		pops := cut(base, starts[i])
		f, ok := s.check(pops, values)
		if ok && f != nil {
			w.ops, w.inits, w.failing, w.start = pops, values, f, starts[i]
			return true
		}
		return false
	}
	lo, hi := -1, len(starts) // starts[lo] fails (-1: the prefix), starts[hi] does not (or is past the end)
	for gap := 1; hi-gap > lo; gap *= 2 {
		if try(hi - gap) {
			lo = hi - gap
			break
		}
		hi -= gap
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if try(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
}

// dropReads is step 3: it removes the reads the refutation does not
// need, one at a time, while the window still fails.
func (s *shrinker) dropReads(w *window) {
	for i := 0; i < len(w.ops); i++ {
		p := w.ops[i]
		in := p.Input.(checker.RegisterInput)
		if in.F != "read" || p.Metadata == w.failing.Metadata {
			continue
		}
		pops := slices.Delete(slices.Clone(w.ops), i, i+1)
		f, ok := s.check(pops, w.inits)
		if !ok && s.steps >= maxSteps {
			break
		}
		if ok && f != nil {
			w.ops, w.failing = pops, f
			i--
		}
	}
}

// find returns the operation of pops with the given metadata.
func find(pops []porcupine.Operation, meta any) *porcupine.Operation {
	for i := range pops {
		if pops[i].Metadata == meta {
			return &pops[i]
		}
	}
	return nil
}

// cut returns the part of pops from t0 on (see the comment at the top):
// operations completed before t0 are dropped, reads across t0 too, and
// writes and cas across t0 get an unknown outcome.
func cut(pops []porcupine.Operation, t0 int64) []porcupine.Operation {
	var out []porcupine.Operation
	for _, p := range pops {
		switch {
		case p.Return < t0:
			continue
		case p.Call < t0:
			if p.Input.(checker.RegisterInput).F == "read" {
				continue
			}
			out = append(out, porcupine.Operation{ClientId: p.ClientId, Input: p.Input, Call: p.Call,
				Output: checker.RegisterOutput{Unknown: true}, Return: math.MaxInt64, Metadata: p.Metadata})
		default:
			out = append(out, p)
		}
	}
	return out
}

// registerValues lists the states the register can usefully hold at the
// start of a window: nil (which stands for every value no operation
// mentions) and every value an operation mentions.
func registerValues(pops []porcupine.Operation) []any {
	seen := map[string]bool{"null": true}
	out := []any{nil}
	add := func(v any) {
		if v == nil {
			return
		}
		if k := history.Key(v); !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	for _, p := range pops {
		in := p.Input.(checker.RegisterInput)
		add(in.Value)
		add(in.From)
		add(in.To)
		add(p.Output.(checker.RegisterOutput).Value)
	}
	return out
}

// origin returns the history operations behind a window operation.
func origin(p porcupine.Operation) *checker.RegisterOp { return p.Metadata.(*checker.RegisterOp) }

// span renders when an operation ran: "at 1.203–1.221 s", "from 1.203 s
// (no reply)".
func span(r *checker.RegisterOp) string {
	if r.Complete == nil {
		return fmt.Sprintf("from %.3f s (never completed)", float64(r.Invoke.Time)/1e9)
	}
	return fmt.Sprintf("at %.3f–%.3f s", float64(r.Invoke.Time)/1e9, float64(r.Complete.Time)/1e9)
}

// did renders what an operation did: "wrote 3", "read 1", "cas 1→3".
func did(r *checker.RegisterOp) string {
	switch r.Invoke.F {
	case "read":
		if r.Complete != nil && r.Complete.Type == history.OK {
			if r.Complete.Value == nil {
				return "read nothing (key missing)"
			}
			return "read " + history.Key(r.Complete.Value)
		}
		return "read"
	case "write":
		return "wrote " + history.Key(r.Invoke.Value)
	case "cas":
		if ft, ok := r.Invoke.Value.([]any); ok && len(ft) == 2 {
			return fmt.Sprintf("cas %s→%s", history.Key(ft[0]), history.Key(ft[1]))
		}
	}
	return r.Invoke.F
}

// outcome renders how an operation ended: "(ok)", "(outcome unknown:
// timeout (no reply in time))".
func outcome(r *checker.RegisterOp) string {
	switch {
	case r.Complete == nil:
		return "(outcome unknown)"
	case r.Complete.Type == history.OK:
		return "(ok)"
	}
	return "(outcome unknown: " + explain.ErrorName(*r.Complete) + ")"
}

// sentence describes one operation: "process 4 (on n1) wrote 3 at
// 1.203–1.221 s (ok)".
func sentence(ev *explain.Evidence, r *checker.RegisterOp) string {
	return fmt.Sprintf("%s %s %s %s", ev.Who(r.Invoke), did(r), span(r), outcome(r))
}

// example tells the window as a story: its operations in the order they
// began, the one that cannot be honoured last, and why (see reason).
func (w *window) example(ev *explain.Evidence, key, why string) results.Example {
	var lines []string
	if last := w.lastProducer(); last != nil && find(w.ops, last.Metadata) == nil {
		s, _ := sets(origin(*last))
		below := "the " + origin(*w.failing).Invoke.F + " below"
		what := "the last write of " + history.Key(s) + " to begin before " + below
		if last.Output.(checker.RegisterOutput).Unknown || origin(*last).Invoke.F == "cas" {
			what = "the last operation that may have written " + history.Key(s) + " to begin before " + below
		}
		lines = append(lines, "before the window: "+sentence(ev, origin(*last))+", "+what)
	}
	if len(w.inits) > 1 {
		lines = append(lines, fmt.Sprintf("from %.3f s, whatever key %s held then:", float64(w.start)/1e9, key))
	}
	for i, p := range w.ops {
		r := origin(p)
		s := sentence(ev, r)
		switch {
		case p.Metadata == w.failing.Metadata:
			if i == len(w.ops)-1 && i > 0 {
				s = "then " + s
			}
			s += ", " + why
		case p.Call < w.start:
			s += " — it began earlier and may have taken effect before " + fmt.Sprintf("%.3f s", float64(w.start)/1e9)
		}
		lines = append(lines, s)
	}
	for _, f := range w.faults(ev) {
		lines = append(lines, "meanwhile: "+f.String())
	}
	return results.Example{
		Text:  fmt.Sprintf("key %s: %s %s %s, %s", key, ev.Who(origin(*w.failing).Invoke), did(origin(*w.failing)), span(origin(*w.failing)), why),
		Lines: lines,
	}
}

// faults returns the nemesis faults in force at some time during the
// window: from its start to the failing operation's return.
func (w *window) faults(ev *explain.Evidence) []explain.Fault {
	var out []explain.Fault
	for _, f := range ev.Faults() {
		if f.Start <= w.failing.Return && (f.End < 0 || f.End >= w.start) {
			out = append(out, f)
		}
	}
	return out
}

// observed returns the value the failing operation needed the register to
// hold: what a read returned, a cas's from.
func observed(r *checker.RegisterOp) (any, bool) {
	switch r.Invoke.F {
	case "read":
		if r.Complete != nil {
			return r.Complete.Value, true
		}
	case "cas":
		if ft, ok := r.Invoke.Value.([]any); ok && len(ft) == 2 {
			return ft[0], true
		}
	}
	return nil, false
}

// sets returns the value an operation leaves in the register when it
// takes effect: a write's value, a cas's to.
func sets(r *checker.RegisterOp) (any, bool) {
	switch r.Invoke.F {
	case "write":
		return r.Invoke.Value, true
	case "cas":
		if ft, ok := r.Invoke.Value.([]any); ok && len(ft) == 2 {
			return ft[1], true
		}
	}
	return nil, false
}

// lastProducer returns the operation of the key's history that last
// began writing the value the failing operation saw before it returned,
// nil when there is none.
func (w *window) lastProducer() *porcupine.Operation {
	v, ok := observed(origin(*w.failing))
	if !ok || v == nil {
		return nil
	}
	var last *porcupine.Operation
	for i, p := range w.all {
		if p.Call > w.failing.Return || p.Metadata == w.failing.Metadata {
			continue
		}
		if s, ok := sets(origin(p)); ok && history.Equal(s, v) && (last == nil || p.Call >= last.Call) {
			last = &w.all[i]
		}
	}
	return last
}

// reason says why the failing operation cannot be honoured, claiming only
// what the key's whole history shows, and classifies it (kind): that no
// operation ever wrote the value it saw ("unwritten"); or that another
// value was written, or read, after every write of it and before the
// operation began ("stale"); or, when neither holds, that no order of the
// window's operations explains it ("order").
func (w *window) reason(ev *explain.Evidence) (kind, text string) {
	fr := origin(*w.failing)
	v, ok := observed(fr)
	if !ok || v == nil {
		return "order", fmt.Sprintf("though no order of these %s that respects when each ran explains it", results.Plural(len(w.ops), "operation"))
	}
	vk := history.Key(v)
	saw := "this read"
	if fr.Invoke.F == "cas" {
		saw = "this cas"
	}
	over, producers := w.witness(v)
	if len(producers) == 0 {
		return "unwritten", fmt.Sprintf("though no operation had written %s", vk)
	}
	if over == nil {
		return "order", fmt.Sprintf("though no order of these %s that respects when each ran leaves %s in key %s then",
			results.Plural(len(w.ops), "operation"), vk, history.Key(w.key))
	}
	or := origin(*over)
	var act string
	switch or.Invoke.F {
	case "write":
		act = "had written"
	case "read":
		act = "had read"
	default:
		act = "had set it to"
	}
	x, _ := sets(or)
	if or.Invoke.F == "read" {
		x = or.Complete.Value
	}
	return "stale", fmt.Sprintf("though %s %s %s %s, after every write of %s and before %s began",
		ev.Who(or.Invoke), act, history.Key(x), span(or), vk, saw)
}

// witness returns the operations of the key's history that may have
// written v before the failing operation returned, and an operation
// showing that v was gone by the time the failing operation began (nil
// when none does): a definite write or cas of another value, or a read
// of another value, that began after every producer of v had returned
// (so none can come after it) and returned before the failing operation
// began. The window's own witnesses are preferred, then the latest.
func (w *window) witness(v any) (over *porcupine.Operation, producers []porcupine.Operation) {
	vk := history.Key(v)
	for _, p := range w.all {
		if p.Call > w.failing.Return {
			continue
		}
		if s, ok := sets(origin(p)); ok && history.Key(s) == vk {
			producers = append(producers, p)
		}
	}
	if len(producers) == 0 {
		return nil, nil
	}
	lastReturn := producers[0].Return // the latest any producer of v returned
	for _, q := range producers {
		lastReturn = max(lastReturn, q.Return)
	}
	better := func(p *porcupine.Operation) bool {
		if over == nil {
			return true
		}
		inP, inO := find(w.ops, p.Metadata) != nil, find(w.ops, over.Metadata) != nil
		if inP != inO {
			return inP
		}
		return p.Return > over.Return
	}
	for i, p := range w.all {
		r := origin(p)
		if p.Output.(checker.RegisterOutput).Unknown || p.Return >= w.failing.Call {
			continue
		}
		x, ok := sets(r)
		if r.Invoke.F == "read" {
			x, ok = r.Complete.Value, r.Complete.Value != nil
		}
		if !ok || history.Key(x) == vk {
			continue
		}
		if lastReturn < p.Call && better(&w.all[i]) {
			over = &w.all[i]
		}
	}
	return over, producers
}

// fileName keeps a key's text safe as part of a file name.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// visualize writes porcupine's visualization of the window as
// linearizability-<key>.html and returns its name, "" when it wrote
// nothing (porcupine found no refutation in time, or writing failed).
func visualize(ev *explain.Evidence, key string, w *window) string {
	model := checker.CASRegisterModelFrom(w.inits)
	model.DescribeOperationMetadata = func(info any) string {
		r, ok := info.(*checker.RegisterOp)
		if !ok {
			return ""
		}
		return sentence(ev, r)
	}
	// Porcupine draws a row for every client id up to the largest: give
	// the window's processes rows 0, 1, ... in order (each operation's
	// tooltip names its process and node).
	ops := slices.Clone(w.ops)
	var procs []int
	for _, p := range ops {
		procs = append(procs, p.ClientId)
	}
	slices.Sort(procs)
	procs = slices.Compact(procs)
	for i := range ops {
		ops[i].ClientId, _ = slices.BinarySearch(procs, ops[i].ClientId)
	}
	res, info := porcupine.CheckOperationsVerbose(model, ops, visualizeTimeout)
	if res != porcupine.Illegal {
		return ""
	}
	var notes []porcupine.Annotation
	if len(w.inits) > 1 {
		notes = append(notes, porcupine.Annotation{Tag: "window", Start: w.start,
			Description: "window starts", Details: "Operations that completed before this point are left out, so the key may hold any value here; writes and cas still running here may or may not have taken effect."})
	}
	for _, f := range w.faults(ev) {
		end := f.End
		if end < 0 || end > w.failing.Return {
			end = w.failing.Return
		}
		notes = append(notes, porcupine.Annotation{Tag: "nemesis", Start: max(f.Start, w.start), End: end,
			Description: f.Kind, Details: f.String(), BackgroundColor: "#f2d7d5"})
	}
	info.AddAnnotations(notes)
	name := "linearizability-" + strings.Trim(unsafeName.ReplaceAllString(key, "_"), "_") + ".html"
	err := ev.WriteFile(name, func(out io.Writer) error { return porcupine.Visualize(model, info, out) })
	if err != nil {
		return ""
	}
	return name
}

// linearizable returns the :linearizable result in a key's entry of
// :results, nil when there is none.
func linearizable(e edn.Entry) edn.Map {
	sub, _ := e.Val.(edn.Map)
	lin, _ := sub.Lookup("linearizable").(edn.Map)
	return lin
}
