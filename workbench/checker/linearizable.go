package checker

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// RegisterInput is the input of one operation on a compare-and-set
// register, as given to porcupine with CASRegisterModel.
type RegisterInput struct {
	F     string // "read", "write" or "cas"
	Value any    // write: the value written
	From  any    // cas: the value expected
	To    any    // cas: the value stored when the register holds From
}

// RegisterOutput is the observed outcome of a register operation.
type RegisterOutput struct {
	// Value is what a read returned. A nil (JSON null) read is consistent
	// with any state, as in Knossos's CAS register.
	Value any
	// Unknown marks an operation whose outcome nobody knows (an :info
	// completion or none at all). Give such operations
	// Return = math.MaxInt64: a write then always applies where porcupine
	// places it, and a cas applies if the register holds From and is
	// otherwise a no-op. Placing it last models "never happened".
	Unknown bool
}

// canonical is a value already replaced by its history.Key text, so the
// model compares states by string equality.
type canonical string

// registerKey is the state representation of v: its canonical text.
func registerKey(v any) string {
	if c, ok := v.(canonical); ok {
		return string(c)
	}
	return history.Key(v)
}

// registerInit is the state of a fresh register: nil.
const registerInit = "null"

// registerStep is the CAS register's transition function over canonical
// states.
func registerStep(state, input, output any) (bool, any) {
	s := state.(string)
	in := input.(RegisterInput)
	out := output.(RegisterOutput)
	switch in.F {
	case "read":
		return out.Unknown || out.Value == nil || registerKey(out.Value) == s, s
	case "write":
		return true, registerKey(in.Value)
	case "cas":
		if registerKey(in.From) == s {
			return true, registerKey(in.To)
		}
		return out.Unknown, s
	}
	return false, s
}

// describeValue prints a register value for porcupine's visualisation.
func describeValue(v any) string {
	if c, ok := v.(canonical); ok {
		return string(c)
	}
	return history.Key(v)
}

// CASRegisterModel returns the porcupine model of one register holding any
// JSON value, initially nil, with inputs RegisterInput and outputs
// RegisterOutput; it is Knossos's CASRegister:
//
//   - write v sets the state to v;
//   - cas [a b] requires state = a and sets it to b (an unknown-outcome
//     cas may also leave the state alone when it is not a);
//   - read v requires v = state, except that a nil read matches any state.
//
// Values are compared with history.Equal. States are the values'
// canonical text (history.Key); the model has no partition function, so
// check one register per call (split keys first).
func CASRegisterModel() porcupine.Model {
	return porcupine.Model{
		Init: func() any { return registerInit },
		Step: registerStep,
		Hash: func(state any) uint64 {
			h := fnv.New64a()
			h.Write([]byte(state.(string)))
			return h.Sum64()
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(RegisterInput), output.(RegisterOutput)
			var s string
			switch in.F {
			case "read":
				s = "read() -> " + describeValue(out.Value)
				if out.Value == nil {
					s = "read() -> any"
				}
			case "write":
				s = "write(" + describeValue(in.Value) + ")"
			case "cas":
				s = "cas(" + describeValue(in.From) + ", " + describeValue(in.To) + ")"
			default:
				s = in.F + "?"
			}
			if out.Unknown {
				s += " (outcome unknown)"
			}
			return s
		},
		DescribeState: func(state any) string { return state.(string) },
	}
}

// RegisterOp links a porcupine operation back to the history: the
// invocation and its completion (nil if the operation never completed).
// It is the Metadata of every operation RegisterOperations builds.
type RegisterOp struct {
	Invoke   history.Op
	Complete *history.Op
}

// op returns the history entry that best describes the operation: its
// completion, or the invocation if there is none.
func (r *RegisterOp) op() history.Op {
	if r.Complete != nil {
		return *r.Complete
	}
	return r.Invoke
}

// RegisterOperations turns the client operations of one register into
// porcupine operations for CASRegisterModel. Values are those of a single
// register: read invokes nil and completes :ok with the value read; write
// has the value; cas has [from to]. Call and Return are the invocation and
// completion times and ClientId the process. :fail operations are dropped
// (they did not happen), as are reads that did not complete :ok (they
// constrain nothing); writes and cas completed :info or never completed get
// Return = math.MaxInt64 and an unknown output.
func RegisterOperations(ops []history.Op) ([]porcupine.Operation, error) {
	var out []porcupine.Operation
	for _, p := range history.Pairs(ops) {
		c := p.Complete
		if c != nil && c.Type == history.Fail {
			continue
		}
		definite := c != nil && c.Type == history.OK
		in := RegisterInput{F: p.Invoke.F}
		var res RegisterOutput
		switch p.Invoke.F {
		case "read":
			if !definite {
				continue
			}
			if c.Value != nil {
				res.Value = canonical(history.Key(c.Value))
			}
		case "write":
			in.Value = canonical(history.Key(p.Invoke.Value))
		case "cas":
			ft, ok := p.Invoke.Value.([]any)
			if !ok || len(ft) != 2 {
				return nil, fmt.Errorf("cas %d: value %s is not [from to]", p.Invoke.Index, history.Key(p.Invoke.Value))
			}
			in.From, in.To = canonical(history.Key(ft[0])), canonical(history.Key(ft[1]))
		default:
			return nil, fmt.Errorf("operation %d: unknown register operation %q", p.Invoke.Index, p.Invoke.F)
		}
		ret := int64(math.MaxInt64)
		if definite {
			ret = c.Time
		} else {
			res.Unknown = true
		}
		out = append(out, porcupine.Operation{
			ClientId: p.Invoke.Process,
			Input:    in,
			Call:     p.Invoke.Time,
			Output:   res,
			Return:   ret,
			Metadata: &RegisterOp{Invoke: p.Invoke, Complete: c},
		})
	}
	return out, nil
}

// CheckRegisterHistory checks that the operations of one register (values
// as for RegisterOperations) are linearizable for the CAS register, and
// returns the :linearizable result: {:valid? true}; {:valid? :unknown,
// :error ...} when the check exceeded timeout (0 means no limit) or the
// history is malformed; or, for a history that is not linearizable, a
// counter-example in the shape of Knossos's:
//
//	{:valid? false, :analyzer :linear,
//	 :op <the operation whose completion could not be honoured>,
//	 :previous-ok <the last operation whose completion could>,
//	 :configs ({:model {:value v}, :pending [<invocations>]} ...)}
//
// Two searches race (see checkRegister); in the rare case that only
// porcupine reaches a refutation, it is explained by porcupine's longest
// linearizable prefix instead:
//
//	{:valid? false, :analyzer :porcupine, :op <the op that cannot follow>,
//	 :model {:value v}, :last-op <op>, :linearized n, :op-count m}
func CheckRegisterHistory(ops []history.Op, timeout time.Duration) edn.Map {
	pops, err := RegisterOperations(ops)
	if err != nil {
		return UnknownResult(fmt.Errorf("linearizability: %w", err))
	}
	return checkRegister(pops, timeout)
}

// checkRegister decides one register's history by a competition, as
// Knossos does: the linear search (linear.go), quick to refute histories
// with indeterminate operations, races porcupine, quick to confirm
// linearizable ones. The first definite answer wins and the other search
// is stopped; a refutation is explained with the linear search's
// configurations when it can provide them. When both searches reach a
// verdict and the verdicts differ, one of them is wrong, and the result
// says so ({:valid? :unknown}) instead of picking one.
func checkRegister(pops []porcupine.Operation, timeout time.Duration) edn.Map {
	return checkRegisterWith(pops, timeout, porcupine.CheckOperationsTimeout)
}

// porcupineCheck runs porcupine; tests replace it to make the searches
// disagree.
type porcupineCheck func(model porcupine.Model, pops []porcupine.Operation, timeout time.Duration) porcupine.CheckResult

// checkRegisterWith is checkRegister with porcupine run by runPorcupine.
func checkRegisterWith(pops []porcupine.Operation, timeout time.Duration, runPorcupine porcupineCheck) edn.Map {
	start := time.Now()
	var deadline time.Time
	if timeout > 0 {
		deadline = start.Add(timeout)
	}
	// stop asks both searches to give up; interrupted records that
	// porcupine saw it, after which its answer is no verdict.
	var stop, interrupted atomic.Bool
	type linResult struct {
		failure *linFailure
		err     error
	}
	linCh := make(chan linResult, 1)
	porCh := make(chan porcupine.CheckResult, 1)
	go func() {
		f, err := linearSearch(pops, deadline, &stop)
		linCh <- linResult{f, err}
	}()
	model := CASRegisterModel()
	model.Step = func(state, input, output any) (bool, any) {
		if stop.Load() {
			interrupted.Store(true)
			return false, state // unwinds porcupine's search quickly; the result is ignored
		}
		return registerStep(state, input, output)
	}
	go func() { porCh <- runPorcupine(model, pops, timeout) }()

	timedOut := UnknownResult(fmt.Errorf("linearizability check timed out after %v", timeout))
	var lin *linResult
	var por porcupine.CheckResult
	for lin == nil || por == "" {
		select {
		case r := <-linCh:
			lin = &r
			if r.err == nil {
				stop.Store(true)
				if por == "" {
					if por = <-porCh; interrupted.Load() {
						por = porcupine.Unknown // stopped before it decided
					}
				}
				switch {
				case por == porcupine.Illegal && r.failure == nil,
					por == porcupine.Ok && r.failure != nil:
					return UnknownResult(fmt.Errorf("linearizability: the linear search and porcupine disagree (porcupine: %s)", por))
				case r.failure == nil:
					return edn.K("valid?", true)
				}
				return r.failure.edn()
			}
		case por = <-porCh:
			if por == porcupine.Ok {
				stop.Store(true)
				if lin == nil {
					<-linCh
				}
				return edn.K("valid?", true)
			}
		}
	}
	// Both finished without a verdict from the linear search.
	switch {
	case por == porcupine.Illegal:
		rest := time.Duration(0)
		if timeout > 0 {
			if rest = timeout - time.Since(start); rest <= 0 {
				return edn.K("valid?", false, "analyzer", edn.Keyword("porcupine"),
					"error", "no time left to build a counter-example")
			}
		}
		return checkPorcupine(pops, rest)
	case errors.Is(lin.err, errSearchTooLarge):
		return UnknownResult(fmt.Errorf("linearizability: %w, and porcupine timed out after %v", lin.err, timeout))
	}
	return timedOut
}

// maxConfigsShown bounds :configs in a failure, as Jepsen does.
const maxConfigsShown = 10

// edn renders a failure in the shape of Knossos's linear analysis:
//
//	{:valid? false, :analyzer :linear,
//	 :op <the operation whose completion could not be honoured>,
//	 :previous-ok <the last operation whose completion could>,
//	 :configs ({:model {:value v}, :pending [<invocations>]} ...)}
//
// :configs are (up to 10 of) the states the register could be in just
// before :op completed, each with the operations invoked and not yet
// linearized at that point.
func (f *linFailure) edn() edn.Map {
	meta := func(o *linOp) *RegisterOp { return o.pop.Metadata.(*RegisterOp) }
	configs := edn.List{}
	for _, c := range f.configs[:min(len(f.configs), maxConfigsShown)] {
		pending := edn.Vector{}
		for _, id := range c.pending {
			pending = append(pending, meta(f.definite[id]).Invoke.EDN())
		}
		configs = append(configs, edn.K("model", edn.K("value", stateValue(c.state)), "pending", pending))
	}
	var prev any
	if f.previousOK != nil {
		prev = meta(f.previousOK).op().EDN()
	}
	return edn.K(
		"valid?", false,
		"analyzer", edn.Keyword("linear"),
		"op", meta(f.op).op().EDN(),
		"previous-ok", prev,
		"configs", configs,
	)
}

// checkPorcupine decides one register's history with porcupine and, when
// it is not linearizable, explains why with porcupine's longest
// linearizable prefix.
func checkPorcupine(pops []porcupine.Operation, timeout time.Duration) edn.Map {
	model := CASRegisterModel()
	start := time.Now()
	switch porcupine.CheckOperationsTimeout(model, pops, timeout) {
	case porcupine.Ok:
		return edn.K("valid?", true)
	case porcupine.Unknown:
		return UnknownResult(fmt.Errorf("linearizability check timed out after %v", timeout))
	}
	// Not linearizable: run again, recording partial linearizations, to
	// explain why. That is slower, so only failures pay for it.
	result := edn.K("valid?", false, "analyzer", edn.Keyword("porcupine"))
	rest := time.Duration(0)
	if timeout > 0 {
		if rest = timeout - time.Since(start); rest <= 0 {
			return append(result, edn.Entry{Key: edn.Keyword("error"), Val: "no time left to build a counter-example"})
		}
	}
	res, info := porcupine.CheckOperationsVerbose(model, pops, rest)
	if res != porcupine.Illegal {
		return append(result, edn.Entry{Key: edn.Keyword("error"), Val: "no time left to build a counter-example"})
	}
	var partials [][]porcupine.Operation
	if all := info.PartialLinearizationsOperations(); len(all) > 0 {
		partials = all[0]
	}
	prefix := longestPrefix(partials)
	done := map[*RegisterOp]bool{}
	state := any(registerInit)
	var last *RegisterOp
	for _, o := range prefix {
		_, state = registerStep(state, o.Input, o.Output)
		last = o.Metadata.(*RegisterOp)
		done[last] = true
	}
	// The first operation (by return, then call) left out of the prefix is
	// the one the search could not place.
	var stuck *porcupine.Operation
	for i := range pops {
		o := &pops[i]
		if done[o.Metadata.(*RegisterOp)] {
			continue
		}
		if stuck == nil || o.Return < stuck.Return || (o.Return == stuck.Return && o.Call < stuck.Call) {
			stuck = o
		}
	}
	var stuckOp, lastOp any
	if stuck != nil {
		stuckOp = stuck.Metadata.(*RegisterOp).op().EDN()
	}
	if last != nil {
		lastOp = last.op().EDN()
	}
	return append(result,
		edn.Entry{Key: edn.Keyword("op"), Val: stuckOp},
		edn.Entry{Key: edn.Keyword("model"), Val: edn.K("value", stateValue(state.(string)))},
		edn.Entry{Key: edn.Keyword("last-op"), Val: lastOp},
		edn.Entry{Key: edn.Keyword("linearized"), Val: len(prefix)},
		edn.Entry{Key: edn.Keyword("op-count"), Val: len(pops)},
	)
}

// longestPrefix picks the longest of porcupine's partial linearizations;
// ties go to the one whose history indices sort first, so the choice does
// not depend on map order inside porcupine.
func longestPrefix(partials [][]porcupine.Operation) []porcupine.Operation {
	indices := func(p []porcupine.Operation) []int {
		ix := make([]int, len(p))
		for i, o := range p {
			ix[i] = o.Metadata.(*RegisterOp).Invoke.Index
		}
		return ix
	}
	var best []porcupine.Operation
	for _, p := range partials {
		if best == nil || len(p) > len(best) || (len(p) == len(best) && slices.Compare(indices(p), indices(best)) < 0) {
			best = p
		}
	}
	return best
}

// stateValue turns a canonical state back into a value for printing.
func stateValue(s string) any {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return s
	}
	return v
}

// LinearizableKV checks the lin-kv workload: operations carry [k v]
// tuples (read [k nil] completing :ok [k value]; write [k v]; cas
// [k [from to]]); each key is an independent CAS register, checked with
// CheckRegisterHistory. The result follows Maelstrom's independent
// checker:
//
//	{:valid? true,
//	 :results {0 {:linearizable {:valid? true}, :timeline {:valid? true}, :valid? true}},
//	 :failures []}
//
// :results is ordered by key, :failures lists the keys whose verdict is
// not true, and :valid? is the worst verdict over all keys (true without
// keys). Operations whose value is not a tuple are ignored. timeout bounds
// the whole check (0 means no limit); keys not decided in time are
// :unknown.
func LinearizableKV(ops []history.Op, timeout time.Duration) edn.Map {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	keys, err := SplitKeys(ops)
	if err != nil {
		return UnknownResult(err)
	}
	valid := Valid
	results := edn.Map{}
	failures := edn.Vector{}
	for _, ko := range keys {
		var lin edn.Map
		left := time.Duration(0)
		if timeout > 0 {
			left = time.Until(deadline)
		}
		if timeout > 0 && left <= 0 {
			lin = UnknownResult(fmt.Errorf("linearizability check timed out after %v", timeout))
		} else {
			lin = CheckRegisterHistory(ko.Ops, left)
		}
		v := ValidityOf(lin)
		valid = Worst(valid, v)
		if v != Valid {
			failures = append(failures, ko.Key)
		}
		results = append(results, edn.Entry{Key: ko.Key, Val: edn.K(
			"linearizable", lin,
			"timeline", Timeline(),
			"valid?", v.EDN(),
		)})
	}
	return edn.K("valid?", valid.EDN(), "results", results, "failures", failures)
}

// KeyHistory is the history of one key of a lin-kv run, with the values
// of a single register (as RegisterOperations takes them).
type KeyHistory struct {
	Key any
	Ops []history.Op
}

// SplitKeys splits lin-kv operations ([k v] tuples, see LinearizableKV)
// into one history per key, ordered like a sorted map (by first
// appearance when keys are not mutually comparable). Operations whose
// value is not a tuple are left out; an :ok completion whose value is not
// a tuple for its invocation's key is an error.
func SplitKeys(ops []history.Op) ([]KeyHistory, error) {
	var keys []*KeyHistory
	byKey := map[string]*KeyHistory{}
	for _, p := range history.Pairs(ops) {
		t, ok := p.Invoke.Value.([]any)
		if !ok || len(t) != 2 {
			continue
		}
		k := history.Key(t[0])
		ko := byKey[k]
		if ko == nil {
			ko = &KeyHistory{Key: t[0]}
			byKey[k] = ko
			keys = append(keys, ko)
		}
		inv := p.Invoke
		inv.Value = t[1]
		ko.Ops = append(ko.Ops, inv)
		if p.Complete != nil {
			c := *p.Complete
			if ct, ok := c.Value.([]any); ok && len(ct) == 2 && history.Key(ct[0]) == k {
				c.Value = ct[1]
			} else if c.Type == history.OK {
				return nil, fmt.Errorf("lin-kv: completion %d has value %s, not a [key value] tuple for key %s", c.Index, history.Key(c.Value), k)
			}
			ko.Ops = append(ko.Ops, c)
		}
	}
	sorted := slices.Clone(keys)
	var cmpErr error
	sort.SliceStable(sorted, func(i, j int) bool {
		c, err := history.Compare(sorted[i].Key, sorted[j].Key)
		if err != nil {
			cmpErr = err
		}
		return c < 0
	})
	if cmpErr == nil {
		keys = sorted
	}
	out := make([]KeyHistory, len(keys))
	for i, k := range keys {
		out[i] = *k
	}
	return out, nil
}

// FirstUnhonoured decides whether pops (from RegisterOperations) are
// linearizable for a register that starts in any one of the states inits
// (values; nil is a fresh register), with the linear search of
// checkRegister. It returns the operation of pops whose completion no
// linearization can honour, nil when pops are linearizable, or an error
// when the search gave up (timeout, 0 for none, or size).
func FirstUnhonoured(pops []porcupine.Operation, inits []any, timeout time.Duration) (*porcupine.Operation, error) {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	states := make([]string, len(inits))
	for i, v := range inits {
		states[i] = registerKey(v)
	}
	f, err := linearSearchFrom(pops, states, deadline, new(atomic.Bool))
	if err != nil || f == nil {
		return nil, err
	}
	return f.op.pop, nil
}

// CASRegisterModelFrom is CASRegisterModel for a register that starts in
// any one of the states inits (values; nil is a fresh register): a
// nondeterministic model, whose states porcupine's visualization shows
// as sets.
func CASRegisterModelFrom(inits []any) porcupine.Model {
	one := CASRegisterModel()
	nd := porcupine.NondeterministicModel{
		Init: func() []any {
			out := make([]any, len(inits))
			for i, v := range inits {
				out[i] = registerKey(v)
			}
			return out
		},
		Step: func(state, input, output any) []any {
			if ok, next := registerStep(state, input, output); ok {
				return []any{next}
			}
			return nil
		},
		Hash:              one.Hash,
		Equal:             func(a, b any) bool { return a.(string) == b.(string) },
		DescribeOperation: one.DescribeOperation,
		DescribeState:     one.DescribeState,
	}
	return nd.ToModel()
}
