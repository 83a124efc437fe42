package kafka

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/results"
)

// This file explains, in plain words, what the kafka checker (check.go)
// and the committed-offsets check (committed.go) found. It reads the
// cases the checkers listed (their counts are exact; their lists are
// condensed as Jepsen condenses them) and looks up, in one pass over the
// history, only the sends and polls of the keys, messages and offsets
// those cases name: so explaining costs a fraction of the analysis and
// holds no more than the cases it tells about.

// Explain implements explain.Explainer: one finding per error type the
// kafka checker reports (Section "workload") and one for the
// committed-offsets check (Section "glomers").
func (*kafka) Explain(ev *explain.Evidence) []results.Finding {
	return explainKafka(ev)
}

// kafkaExplainOrder lists the error types in the order a learner should
// read them: what the log itself holds wrong first (clashing offsets,
// copies, failed sends kept), then single polls that leave out or
// reorder messages, then what those lead to (lost writes, messages never
// seen), then order across a process's operations; cycles and the rest
// come last.
var kafkaExplainOrder = []string{
	"inconsistent-offsets", "duplicate", "G1a",
	"int-poll-skip", "int-nonmonotonic-poll",
	"lost-write", "unseen",
	"poll-skip", "nonmonotonic-poll", "nonmonotonic-send",
}

// explainKafka explains ev's :workload (when not valid) and ev.Extra, the
// committed-offsets check (when not valid).
func explainKafka(ev *explain.Evidence) []results.Finding {
	x := &kexplainer{ev: ev, idx: newKafkaIndex()}
	var plan []func() []results.Finding
	if ev.Workload != nil && checker.ValidityOf(ev.Workload) != checker.Valid {
		if e, ok := ev.Workload.Get(edn.Keyword("error")); ok {
			plan = append(plan, func() []results.Finding { return x.unknown(e) })
		}
		bad := map[string]bool{}
		for _, t := range edn.Items(ev.Workload.Lookup("bad-error-types")) {
			bad[kafkaName(t)] = true
		}
		types := slices.Clone(kafkaExplainOrder)
		var rest []string
		for t := range bad {
			if !slices.Contains(types, t) {
				rest = append(rest, t)
			}
		}
		sort.Strings(rest)
		for _, t := range append(types, rest...) {
			if !bad[t] {
				continue
			}
			plan = append(plan, x.plan(t, ev.Workload.Lookup(t)))
		}
	}
	if ev.Extra != nil && checker.ValidityOf(ev.Extra) != checker.Valid {
		plan = append(plan, x.planCommitted(ev.Extra))
	}
	// Every planned story has asked the index for what it needs: read
	// the history once, then tell them.
	x.idx.scan(ev.Ops)
	var out []results.Finding
	for _, p := range plan {
		out = append(out, p()...)
	}
	return out
}

// kexplainer holds what the stories share.
type kexplainer struct {
	ev    *explain.Evidence
	idx   *kafkaIndex
	drawn map[string]string // key → the file of its picture, "" if none
}

// drawFirst asks for pictures of the keys of the first few cases, when
// the run stores files.
func (x *kexplainer) drawFirst(cases []edn.Map) {
	for _, c := range cases[:min(len(cases), 3)] {
		x.draw(caseKey(c))
	}
}

// draw asks for a picture of key k's log, when the run stores files.
func (x *kexplainer) draw(k string) {
	if x.ev.WriteFile != nil {
		x.idx.draw(k)
	}
}

// plan asks the index for what the cases of error type t need and
// returns the function that tells them once the index is filled.
func (x *kexplainer) plan(t string, v any) func() []results.Finding {
	m, _ := v.(edn.Map)
	if t == "unseen" {
		return x.planUnseen(m)
	}
	n, _ := history.Int(m.Lookup("count"))
	count := int(n)
	var cases []edn.Map
	for _, c := range edn.Items(m.Lookup("errs")) {
		if cm, ok := c.(edn.Map); ok {
			cases = append(cases, cm)
		}
	}
	switch t {
	case "lost-write":
		return x.planLost(count, cases)
	case "inconsistent-offsets":
		return x.planInconsistent(count, cases)
	case "duplicate":
		return x.planDuplicate(count, cases)
	case "G1a":
		return x.planG1a(count, cases)
	case "int-poll-skip", "poll-skip", "int-nonmonotonic-poll", "nonmonotonic-poll":
		return x.planPollOrder(t, count, cases)
	case "nonmonotonic-send":
		return x.planSendOrder(count, cases)
	}
	if strings.HasPrefix(t, "G") && len(cases) > 0 {
		if _, ok := cases[0].Get(edn.Keyword("cycle")); ok {
			return func() []results.Finding { return x.cycles(t, count, cases) }
		}
	}
	return func() []results.Finding { return []results.Finding{x.other(t, count)} }
}

// ---- the index: one pass over the history for what the stories need.

// kafkaIndex gathers, in one pass over the history, the facts the
// stories asked for, and only those: for wanted messages their sends and
// the polls that returned them; for wanted offsets the messages seen
// there; for wanted keys how far polls got.
type kafkaIndex struct {
	msgs map[string]map[string]*kmsgFacts // key → message text → facts
	offs map[string]map[int64]*koffFacts  // key → offset → facts
	keys map[string]*kkeyFacts
	logs map[string]map[int64]*kcell // keys to draw (see draw): offset → what was seen there
	inv  map[int]int                 // process → ops index of its open invocation
}

// kmsgFacts is what the history shows of one message of one key.
type kmsgFacts struct {
	sends     []ksendAt // every send completion of it
	firstPoll int       // ops index of the first :ok poll returning it; -1
	pollOff   int64     // the offset that poll returned it at
	polls     int       // :ok polls returning it
}

// ksendAt is one send completion and its invocation (-1 if unknown).
type ksendAt struct{ op, inv int }

// koffFacts lists the distinct messages seen at one offset of a key,
// each with the first operation that showed it there (an :ok send's
// acknowledgement or an :ok poll).
type koffFacts struct{ seen []kseenAt }

type kseenAt struct {
	msg  string
	op   int
	poll bool
}

// kkeyFacts is how far :ok polls got in one key.
type kkeyFacts struct {
	maxOff    int64 // highest offset any :ok poll returned; -1
	maxOp     int   // the first :ok poll that returned it
	lastPoll  int   // the last :ok poll that returned messages of the key
	lastOff   int64 // the highest offset that poll returned
	finalPoll int   // the last :ok final-phase poll listing the key; -1
}

func newKafkaIndex() *kafkaIndex {
	return &kafkaIndex{msgs: map[string]map[string]*kmsgFacts{}, offs: map[string]map[int64]*koffFacts{},
		keys: map[string]*kkeyFacts{}, inv: map[int]int{}}
}

// msg asks for message m of key k.
func (ix *kafkaIndex) msg(k, m string) *kmsgFacts {
	byMsg := ix.msgs[k]
	if byMsg == nil {
		byMsg = map[string]*kmsgFacts{}
		ix.msgs[k] = byMsg
	}
	f := byMsg[m]
	if f == nil {
		f = &kmsgFacts{firstPoll: -1}
		byMsg[m] = f
	}
	return f
}

// off asks for offset o of key k.
func (ix *kafkaIndex) off(k string, o int64) *koffFacts {
	byOff := ix.offs[k]
	if byOff == nil {
		byOff = map[int64]*koffFacts{}
		ix.offs[k] = byOff
	}
	f := byOff[o]
	if f == nil {
		f = &koffFacts{}
		byOff[o] = f
	}
	return f
}

// key asks for how far polls got in key k.
func (ix *kafkaIndex) key(k string) *kkeyFacts {
	f := ix.keys[k]
	if f == nil {
		f = &kkeyFacts{maxOff: -1, maxOp: -1, lastPoll: -1, lastOff: -1, finalPoll: -1}
		ix.keys[k] = f
	}
	return f
}

func (f *koffFacts) note(msg string, op int, poll bool) {
	for _, s := range f.seen {
		if s.msg == msg && s.poll == poll {
			return
		}
	}
	f.seen = append(f.seen, kseenAt{msg, op, poll})
}

// scan reads the history once and fills in every fact asked for.
func (ix *kafkaIndex) scan(ops []history.Op) {
	if len(ix.msgs) == 0 && len(ix.offs) == 0 && len(ix.keys) == 0 && len(ix.logs) == 0 {
		return
	}
	for i := range ops {
		op := &ops[i]
		if !op.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			if op.F == "send" {
				ix.inv[op.Process] = i
			}
			continue
		}
		switch op.F {
		case "send":
			inv, ok := ix.inv[op.Process]
			if ok {
				delete(ix.inv, op.Process)
			} else {
				inv = -1
			}
			k, m, off, hasOff, ok := kafkaSent(*op)
			if !ok {
				continue
			}
			byMsg, byOff, lg := ix.msgs[k], ix.offs[k], ix.logs[k]
			if byMsg == nil && byOff == nil && lg == nil {
				continue
			}
			text := history.Key(m)
			if f := byMsg[text]; f != nil {
				f.sends = append(f.sends, ksendAt{i, inv})
			}
			if f := byOff[off]; f != nil && hasOff {
				f.note(text, i, false)
			}
			if lg != nil && hasOff {
				c := cellAt(lg, off)
				c.mark(&c.acks, text, op.Process)
			}
		case "poll":
			if op.Type == history.OK {
				ix.scanPoll(i, op)
			}
		}
	}
	ix.inv = nil
}

// scanPoll notes what the :ok poll at ops index i returned of wanted keys.
func (ix *kafkaIndex) scanPoll(i int, op *history.Op) {
	kafkaEachPolled(op.Value, func(k string, list any) {
		byMsg, byOff, kf, lg := ix.msgs[k], ix.offs[k], ix.keys[k], ix.logs[k]
		if byMsg == nil && byOff == nil && kf == nil && lg == nil {
			return
		}
		if kf != nil && op.Final {
			kf.finalPoll = i
		}
		for _, p := range edn.Items(list) {
			off, m, ok := kafkaPair(p)
			if !ok {
				continue
			}
			if kf != nil {
				if off > kf.maxOff {
					kf.maxOff, kf.maxOp = off, i
				}
				if kf.lastPoll != i {
					kf.lastPoll, kf.lastOff = i, off
				}
				kf.lastOff = max(kf.lastOff, off)
			}
			if byMsg == nil && byOff == nil && lg == nil {
				continue
			}
			text := history.Key(m)
			if lg != nil {
				c := cellAt(lg, off)
				c.mark(&c.polled, text, op.Process)
			}
			if f := byMsg[text]; f != nil {
				if f.firstPoll < 0 {
					f.firstPoll, f.pollOff = i, off
				}
				f.polls++
			}
			if f := byOff[off]; f != nil {
				f.note(text, i, true)
			}
		}
	})
}

// ---- reading operations and cases.

// kafkaSent reads a send operation: its key, message and, for an :ok
// completion, the offset it was acknowledged with (hasOff is never true
// for another type).
func kafkaSent(op history.Op) (key string, msg any, off int64, hasOff, ok bool) {
	txn := edn.Items(op.Value)
	if len(txn) != 1 {
		return "", nil, 0, false, false
	}
	mop := edn.Items(txn[0])
	if len(mop) != 3 {
		return "", nil, 0, false, false
	}
	key, msg = kafkaKeyLabel(mop[1]), mop[2]
	if pair := edn.Items(msg); len(pair) == 2 && op.Type == history.OK {
		if o, isInt := history.Int(pair[0]); isInt {
			return key, pair[1], o, true, true
		}
	}
	return key, msg, 0, false, true
}

// kafkaEachPolled calls f with each key of a poll's value and its list of
// [offset message] pairs.
func kafkaEachPolled(v any, f func(key string, list any)) {
	txn := edn.Items(v)
	if len(txn) != 1 {
		return
	}
	if mop := edn.Items(txn[0]); len(mop) >= 2 {
		kafkaEachKey(mop[1], f)
	}
}

// kafkaPolledOf returns the pairs an :ok poll returned for key.
func kafkaPolledOf(op history.Op, key string) []kpair {
	var out []kpair
	kafkaEachPolled(op.Value, func(k string, list any) {
		if k != key {
			return
		}
		for _, p := range edn.Items(list) {
			if off, m, ok := kafkaPair(p); ok {
				out = append(out, kpair{off, history.Key(m)})
			}
		}
	})
	return out
}

// kpair is one [offset message] of a poll, the message as text.
type kpair struct {
	off int64
	msg string
}

func kafkaPair(p any) (int64, any, bool) {
	pair := edn.Items(p)
	if len(pair) != 2 {
		return 0, nil, false
	}
	off, ok := history.Int(pair[0])
	return off, pair[1], ok
}

// kafkaName renders a keyword (or anything) as a bare name.
func kafkaName(v any) string {
	if k, ok := v.(edn.Keyword); ok {
		return string(k)
	}
	return strings.TrimPrefix(fmt.Sprint(v), ":")
}

// caseKey reads a case's :key as text.
func caseKey(m edn.Map) string { return kafkaKeyLabel(m.Lookup("key")) }

// opOf returns the history operation an op map of a case stands for:
// looked up by its :index, or read from the map when the index does not
// match.
func (x *kexplainer) opOf(v any) (history.Op, bool) {
	m, ok := v.(edn.Map)
	if !ok {
		return history.Op{}, false
	}
	i, ok := history.Int(m.Lookup("index"))
	if ok && i >= 0 && int(i) < len(x.ev.Ops) && x.ev.Ops[i].Index == int(i) {
		return x.ev.Ops[i], true
	}
	op := history.Op{Index: int(i), Value: m.Lookup("value"), Error: m.Lookup("error"), F: kafkaName(m.Lookup("f"))}
	op.Time, _ = history.Int(m.Lookup("time"))
	p, _ := history.Int(m.Lookup("process"))
	op.Process = int(p)
	switch kafkaName(m.Lookup("type")) {
	case "ok":
		op.Type = history.OK
	case "fail":
		op.Type = history.Fail
	case "info":
		op.Type = history.Info
	}
	return op, true
}

// invocationOf finds the invocation of the completion at ops index i,
// looking back a bounded distance; -1 when not found.
func (x *kexplainer) invocationOf(i int) int {
	if i < 0 || i >= len(x.ev.Ops) {
		return -1
	}
	p := x.ev.Ops[i].Process
	for j := i - 1; j >= 0 && j >= i-20000; j-- {
		if o := &x.ev.Ops[j]; o.Process == p {
			if o.Type == history.Invoke {
				return j
			}
			return -1
		}
	}
	return -1
}

// began returns when the operation op completes was invoked: its
// invocation's time, op's own when that is not found.
func (x *kexplainer) began(op history.Op) int64 {
	if inv := x.invocationOf(op.Index); inv >= 0 {
		return x.ev.Ops[inv].Time
	}
	return op.Time
}

// ---- sentences.

// q renders a key for a sentence: key "5".
func q(k string) string { return fmt.Sprintf("key %q", k) }

// sendStory tells one send completion: "process 3 (on n1) sent 7 to key
// "5" at 1.20 s: acknowledged with offset 4 at 1.21 s".
func (x *kexplainer) sendStory(s ksendAt) string {
	op := x.ev.Ops[s.op]
	k, m, off, hasOff, _ := kafkaSent(op)
	at := op.Time
	if s.inv >= 0 {
		at = x.ev.Ops[s.inv].Time
	}
	head := fmt.Sprintf("%s sent %s to %s %s", x.ev.Who(op), history.Key(m), q(k), explain.At(at))
	switch {
	case op.Type == history.OK && hasOff:
		return fmt.Sprintf("%s: acknowledged with offset %d %s", head, off, explain.At(op.Time))
	case op.Type == history.OK:
		return fmt.Sprintf("%s: acknowledged %s", head, explain.At(op.Time))
	case op.Type == history.Fail:
		return fmt.Sprintf("%s: failed (%s) %s", head, explain.ErrorName(op), explain.At(op.Time))
	}
	return fmt.Sprintf("%s: outcome unknown (%s) %s", head, explain.ErrorName(op), explain.At(op.Time))
}

// sendOpStory tells the send at ops index i.
func (x *kexplainer) sendOpStory(i int) string {
	return x.sendStory(ksendAt{i, x.invocationOf(i)})
}

// pollStory tells what a poll returned of key, showing the pairs around
// offsets focus (all of them when short): "process 4 (on n0) polled at
// 2.31 s: key "5" came back as [3 6] [4 7] … [9 12] (7 messages)".
func (x *kexplainer) pollStory(op history.Op, key string, focus ...int64) string {
	return fmt.Sprintf("%s polled %s: %s came back as %s", x.ev.Who(op), explain.At(x.began(op)), q(key),
		kafkaPairsText(kafkaPolledOf(op, key), focus))
}

// kafkaPairsText renders pairs as [offset message], eliding those far
// from the focus offsets when there are many.
func kafkaPairsText(pairs []kpair, focus []int64) string {
	if len(pairs) == 0 {
		return "no messages"
	}
	keep := func(i int) bool {
		if len(pairs) <= 8 || i == 0 || i == len(pairs)-1 {
			return true
		}
		for _, f := range focus {
			for d := -1; d <= 1; d++ {
				if j := i + d; j >= 0 && j < len(pairs) && pairs[j].off == f {
					return true
				}
			}
		}
		return false
	}
	var b strings.Builder
	elided := false
	for i, p := range pairs {
		if !keep(i) {
			if !elided {
				b.WriteString(" …")
				elided = true
			}
			continue
		}
		elided = false
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "[%d %s]", p.off, p.msg)
	}
	if len(pairs) > 1 {
		fmt.Fprintf(&b, " (%s)", results.Plural(len(pairs), "message"))
	}
	return b.String()
}

// seenStory tells how message f.msg came to be seen at offset off.
func (x *kexplainer) seenStory(key string, off int64, s kseenAt) string {
	if !s.poll {
		return x.sendOpStory(s.op)
	}
	op := x.ev.Ops[s.op]
	return fmt.Sprintf("%s polled %s at offset %d of %s %s", x.ev.Who(op), s.msg, off, q(key), explain.At(op.Time))
}

// faultsAfter tells the faults that touched node from time t on (a kill
// or pause of it, a partition cutting it off), at most two.
func (x *kexplainer) faultsAfter(node string, t int64) []string {
	var out []string
	for _, f := range x.ev.Faults() {
		if f.End >= 0 && f.End < t {
			continue
		}
		touches := slices.Contains(f.Nodes, node)
		if f.Kind == nemesis.FaultPartition {
			for r, ss := range f.Grudge {
				if r == node || slices.Contains(ss, node) {
					touches = true
				}
			}
		}
		if touches {
			out = append(out, f.String())
		}
		if len(out) == 2 {
			break
		}
	}
	return out
}

// ---- the stories, one per error type.

// unknown explains an analysis that could not finish.
func (x *kexplainer) unknown(e any) []results.Finding {
	cause := fmt.Sprint(e)
	if m, ok := e.(edn.Map); ok {
		if c, ok := m.Get(edn.Keyword("cause")); ok {
			cause = fmt.Sprint(c)
		}
	}
	return []results.Finding{{Section: "workload", Kind: "unknown", Count: 1, Short: "kafka not checkable",
		Summary: "The kafka checker could not analyse this history: " + strings.TrimSuffix(cause, ".") + "."}}
}

// other explains an error type no story knows.
func (x *kexplainer) other(t string, count int) results.Finding {
	sum := fmt.Sprintf("The kafka checker reports %s of :%s; see :%s under :workload in results.edn.", results.Plural(count, "case"), t, t)
	switch t {
	case "empty-transaction-graph":
		count = max(count, 1)
		sum = "No send or poll completed :ok before another send or poll began, so the kafka checker had no order of operations to check: the log answered (almost) nothing."
	case "cycle-search-timeout":
		sum = fmt.Sprintf("Elle's cycle search over the sends and polls timed out %s, so a cycle may have gone unreported; see :cycle-search-timeout in results.edn.", results.Plural(count, "time"))
	}
	if strings.HasSuffix(t, "-cycle-exists") {
		sum = fmt.Sprintf("Elle found a cycle of operations that %s forbids (:%s, reported with the cycle it explains): a poll saw a message before its send began.", strings.TrimSuffix(t, "-cycle-exists"), t)
	}
	return results.Finding{Section: "workload", Kind: t, Count: count, Short: fmt.Sprintf("%s ×%d", t, count), Summary: sum}
}

// planLost explains :lost-write: acknowledged sends no poll returned,
// although polls returned later messages of the key. The why the history
// shows: another message polled at the offset the send was acknowledged
// with (two sends given one offset), or nothing ever polled there.
func (x *kexplainer) planLost(count int, cases []edn.Map) func() []results.Finding {
	x.drawFirst(cases)
	ls := make([]*klost, len(cases))
	for i, c := range cases {
		ls[i] = x.askLost(c)
	}
	return func() []results.Finding {
		taken, empty := 0, 0
		var ex []results.Example
		for _, l := range ls {
			other := x.polledInstead(l)
			if l.hasOff {
				if other != nil {
					taken++
				} else {
					empty++
				}
			}
			if len(ex) < results.MaxExamples {
				ex = append(ex, x.lostExample(l, other))
			}
		}
		return []results.Finding{{Section: "workload", Kind: "lost-write", Count: count,
			Short: results.Plural(count, "lost write"), Summary: lostSummary(count, taken, empty) + ".", Examples: ex}}
	}
}

// klost is one lost write being explained.
type klost struct {
	key, msg string
	f        *kmsgFacts
	off      int64 // the offset its writer was acknowledged with, if hasOff
	hasOff   bool
}

// askLost asks the index for what a :lost-write case needs: the
// message's sends and polls, how far polls got in its key and what was
// polled at the offset its send was acknowledged with.
func (x *kexplainer) askLost(c edn.Map) *klost {
	k := caseKey(c)
	m := history.Key(c.Lookup("value"))
	l := &klost{key: k, msg: m, f: x.idx.msg(k, m)}
	x.idx.key(k)
	// The acknowledged offset is read from the writer, which the case
	// holds; ask for what was polled there.
	if w, ok := x.opOf(c.Lookup("writer")); ok {
		if _, _, off, hasOff, ok := kafkaSent(w); ok && hasOff {
			l.off, l.hasOff = off, true
			x.idx.off(k, off)
		}
	}
	return l
}

// polledInstead returns another message a poll returned at the offset
// the lost write was acknowledged with; nil when polls returned nothing
// else there.
func (x *kexplainer) polledInstead(l *klost) *kseenAt {
	if !l.hasOff {
		return nil
	}
	for _, s := range x.idx.offs[l.key][l.off].seen {
		if s.msg != l.msg && s.poll {
			return &s
		}
	}
	return nil
}

// lostExample tells one lost write: its sends, what was polled at its
// offset instead, how far polls of its key got, and the faults that
// touched the node that acknowledged it afterwards.
func (x *kexplainer) lostExample(l *klost, other *kseenAt) results.Example {
	kf := x.idx.keys[l.key]
	text := fmt.Sprintf("%s: message %s was acknowledged but no poll ever returned it", q(l.key), l.msg)
	var lines []string
	node := ""
	var ackAt int64
	for _, s := range l.f.sends {
		lines = append(lines, x.sendStory(s))
		if op := x.ev.Ops[s.op]; op.Type == history.OK {
			node, ackAt = x.ev.NodeOf(op.Process), op.Time
		}
	}
	if l.hasOff {
		text = fmt.Sprintf("%s: message %s, acknowledged at offset %d, was never polled", q(l.key), l.msg, l.off)
	}
	if other != nil {
		text += fmt.Sprintf("; polls returned %s at that offset instead", other.msg)
		lines = append(lines, "offset "+fmt.Sprint(l.off)+" held another message: "+x.seenStory(l.key, l.off, *other))
	} else if l.hasOff {
		lines = append(lines, fmt.Sprintf("no poll returned anything at offset %d of %s", l.off, q(l.key)))
	}
	if kf != nil && kf.maxOp >= 0 {
		lines = append(lines, fmt.Sprintf("yet polls of %s reached offset %d: %s", q(l.key), kf.maxOff,
			x.pollStory(x.ev.Ops[kf.maxOp], l.key, kf.maxOff)))
	}
	if node != "" {
		for _, f := range x.faultsAfter(node, ackAt) {
			lines = append(lines, fmt.Sprintf("after %s acknowledged it: %s", node, f))
		}
	}
	return results.Example{Text: text, Lines: lines, File: x.picture(l.key)}
}

// lostSummary sums up count lost writes, of which taken were
// acknowledged at an offset where polls found another message and empty
// at one where polls found nothing.
func lostSummary(count, taken, empty int) string {
	keys, each := "keys", "each was"
	if count == 1 {
		keys, each = "key", "it was"
	}
	sum := fmt.Sprintf("%s acknowledged by the log %s never returned by any poll, although polls returned later messages of the same %s",
		results.Plural(count, "message"), results.Verb(count, "was", "were"), keys)
	switch {
	case taken > 0 && empty == 0:
		sum += fmt.Sprintf("; at the offset %s acknowledged with, polls found another message: the log gave one offset to two messages", each)
	case taken > 0:
		sum += fmt.Sprintf("; at %d of their offsets polls found another message (one offset given to two messages), at %d nothing at all", taken, empty)
	case empty > 0:
		sum += "; no poll returned anything at the offsets they were acknowledged with: the log acknowledged offsets it never served"
	}
	return sum
}

// planUnseen explains :unseen: messages acknowledged by :ok sends that no
// :ok poll had returned by the end.
func (x *kexplainer) planUnseen(m edn.Map) func() []results.Finding {
	counts, _ := m.Lookup("unseen").(edn.Map)
	msgs, _ := m.Lookup("messages").(edn.Map)
	type key struct {
		name string
		n    int
		msgs []string
	}
	var keys []key
	total := 0
	for _, e := range counts {
		name := kafkaKeyLabel(e.Key)
		n, _ := history.Int(e.Val)
		total += int(n)
		k := key{name: name, n: int(n)}
		if l, ok := msgs.Get(e.Key); ok {
			for _, v := range edn.Items(l) {
				k.msgs = append(k.msgs, history.Key(v))
			}
		}
		keys = append(keys, k)
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].n > keys[j].n })
	for i, k := range keys[:min(len(keys), results.MaxExamples)] {
		if i < 3 {
			x.draw(k.name)
		}
		x.idx.key(k.name)
		for _, mm := range k.msgs[:min(len(k.msgs), 3)] {
			x.idx.msg(k.name, mm)
		}
	}
	at, _ := history.Int(m.Lookup("time"))
	return func() []results.Finding {
		var ex []results.Example
		beyond, within := 0, 0 // shown messages acknowledged past / before the key's polled end
		for _, k := range keys[:min(len(keys), results.MaxExamples)] {
			kf := x.idx.keys[k.name]
			text := fmt.Sprintf("%s: %s never polled (%s)", q(k.name), results.Plural(k.n, "acknowledged message"), kafkaList(k.msgs, k.n))
			var lines []string
			for _, mm := range k.msgs[:min(len(k.msgs), 3)] {
				f := x.idx.msgs[k.name][mm]
				for _, s := range f.sends {
					lines = append(lines, x.sendStory(s))
					if _, _, off, hasOff, _ := kafkaSent(x.ev.Ops[s.op]); hasOff {
						if kf.maxOff >= 0 && off <= kf.maxOff {
							within++
						} else {
							beyond++
						}
					}
				}
			}
			switch {
			case kf.maxOp < 0:
				lines = append(lines, fmt.Sprintf("no poll ever returned a message of %s", q(k.name)))
			default:
				lines = append(lines, fmt.Sprintf("the highest offset of %s any poll returned was %d: %s", q(k.name), kf.maxOff,
					x.pollStory(x.ev.Ops[kf.maxOp], k.name, kf.maxOff)))
				if kf.finalPoll >= 0 {
					lines = append(lines, "the last final-phase poll listing it: "+x.pollStory(x.ev.Ops[kf.finalPoll], k.name))
				}
			}
			ex = append(ex, results.Example{Text: text, Lines: lines, File: x.picture(k.name)})
		}
		sum := fmt.Sprintf("%s acknowledged by sends to %s %s never returned by any poll by the end of the run (as of the last :ok operation, %s)",
			results.Plural(total, "message"), results.Plural(len(keys), "key"), results.Verb(total, "was", "were"), explain.At(at))
		switch {
		case beyond > 0 && within == 0:
			sum += "; polls of those keys stopped short of the offsets they were acknowledged with"
		case within > 0 && beyond == 0:
			sum += "; polls went past the offsets they were acknowledged with without returning them"
		}
		return []results.Finding{{Section: "workload", Kind: "unseen", Count: total,
			Short: fmt.Sprintf("%d unseen messages", total), Summary: sum + ".", Examples: ex}}
	}
}

// kafkaList renders the first few of n messages: "3, 4, 9 and 12 more".
func kafkaList(ms []string, n int) string {
	show := ms[:min(len(ms), 5)]
	s := strings.Join(show, ", ")
	if n > len(show) {
		s += fmt.Sprintf(" and %d more", n-len(show))
	}
	return s
}

// planInconsistent explains :inconsistent-offsets: an offset of a key
// that holds different messages, with the operations that showed each.
func (x *kexplainer) planInconsistent(count int, cases []edn.Map) func() []results.Finding {
	cases = cases[:min(len(cases), results.MaxExamples)]
	x.drawFirst(cases)
	for _, c := range cases {
		if off, ok := history.Int(c.Lookup("offset")); ok {
			x.idx.off(caseKey(c), off)
		}
	}
	return func() []results.Finding {
		var ex []results.Example
		apart, sentBoth := 0, 0 // cases whose acknowledging sends went to different nodes
		for _, c := range cases {
			k := caseKey(c)
			off, _ := history.Int(c.Lookup("offset"))
			var vals []string
			for _, v := range edn.Items(c.Lookup("values")) {
				vals = append(vals, history.Key(v))
			}
			var lines []string
			nodes := map[string]bool{}
			acks := 0
			for _, s := range x.idx.offs[k][off].seen {
				lines = append(lines, x.seenStory(k, off, s))
				if !s.poll {
					acks++
					nodes[x.ev.NodeOf(x.ev.Ops[s.op].Process)] = true
				}
			}
			if acks >= 2 {
				sentBoth++
				if len(nodes) >= 2 {
					apart++
				}
			}
			ex = append(ex, results.Example{Text: fmt.Sprintf("offset %d of %s holds %s: %s", off, q(k),
				results.Plural(len(vals), "different message"), strings.Join(vals, " and ")), Lines: lines, File: x.picture(k)})
		}
		sum := fmt.Sprintf("%s %s more than one message each, where an offset must name one message", results.Plural(count, "offset"), results.Verb(count, "holds", "hold"))
		switch {
		case apart > 0 && apart == sentBoth:
			sum += fmt.Sprintf("; in %s shown, sends to different nodes were acknowledged with the same offset, as when each node numbers the sends it receives on its own", kafkaEvery(apart, len(cases)))
		case sentBoth > 0:
			sum += fmt.Sprintf("; in %d of the %d shown, two sends were acknowledged with the same offset", sentBoth, len(cases))
		}
		return []results.Finding{{Section: "workload", Kind: "inconsistent-offsets", Count: count,
			Short: results.Plural(count, "inconsistent offset"), Summary: sum + ".", Examples: ex}}
	}
}

// kafkaEvery says "the 1 case" / "all 5 cases" / "3 of the 5 cases".
func kafkaEvery(n, of int) string {
	switch {
	case of == 1:
		return "the case"
	case n == of:
		return fmt.Sprintf("all %d cases", of)
	}
	return fmt.Sprintf("%d of the %d cases", n, of)
}

// planDuplicate explains :duplicate: one message at several offsets.
func (x *kexplainer) planDuplicate(count int, cases []edn.Map) func() []results.Finding {
	cases = cases[:min(len(cases), results.MaxExamples)]
	x.drawFirst(cases)
	for _, c := range cases {
		k := caseKey(c)
		x.idx.msg(k, history.Key(c.Lookup("value")))
		for _, o := range edn.Items(c.Lookup("offsets")) {
			if off, ok := history.Int(o); ok {
				x.idx.off(k, off)
			}
		}
	}
	return func() []results.Finding {
		var ex []results.Example
		resent := 0
		for _, c := range cases {
			k, m := caseKey(c), history.Key(c.Lookup("value"))
			var offs []string
			var lines []string
			f := x.idx.msgs[k][m]
			for _, s := range f.sends {
				lines = append(lines, x.sendStory(s))
			}
			if len(f.sends) > 1 {
				resent++
			}
			for _, o := range edn.Items(c.Lookup("offsets")) {
				off, _ := history.Int(o)
				offs = append(offs, fmt.Sprint(off))
				for _, s := range x.idx.offs[k][off].seen {
					if s.msg == m && s.poll {
						lines = append(lines, x.seenStory(k, off, s))
						break
					}
				}
			}
			ex = append(ex, results.Example{Text: fmt.Sprintf("message %s of %s is at offsets %s", m, q(k), strings.Join(offs, " and ")), Lines: lines, File: x.picture(k)})
		}
		sum := fmt.Sprintf("%s appear at more than one offset of their key: a message sent once must be stored once", results.Plural(count, "message"))
		if count == 1 {
			sum = "1 message appears at more than one offset of its key: a message sent once must be stored once"
		}
		if resent == 0 && len(cases) > 0 {
			sum += " (the client sent each of those shown only once, so the log copied them)"
		}
		return []results.Finding{{Section: "workload", Kind: "duplicate", Count: count,
			Short: results.Plural(count, "duplicated message"), Summary: sum + ".", Examples: ex}}
	}
}

// planG1a explains :G1a: polls that returned the message of a failed send.
func (x *kexplainer) planG1a(count int, cases []edn.Map) func() []results.Finding {
	cases = cases[:min(len(cases), results.MaxExamples)]
	return func() []results.Finding {
		var ex []results.Example
		for _, c := range cases {
			k, m := caseKey(c), history.Key(c.Lookup("value"))
			var lines []string
			if w, ok := x.opOf(c.Lookup("writer")); ok {
				lines = append(lines, x.sendOpStory(w.Index))
			}
			if r, ok := x.opOf(c.Lookup("reader")); ok {
				lines = append(lines, x.pollStory(r, k, kafkaOffsetOf(kafkaPolledOf(r, k), m, false)))
			}
			ex = append(ex, results.Example{Text: fmt.Sprintf("%s: message %s was polled although its send failed", q(k), m), Lines: lines})
		}
		sum := fmt.Sprintf("%s, a poll returned a message whose send had failed with a definite error: a send answered with an error must not take effect", kafkaTimes(count))
		return []results.Finding{{Section: "workload", Kind: "G1a", Count: count, Short: fmt.Sprintf("G1a ×%d", count),
			Summary: sum + ".", Examples: ex}}
	}
}

// planPollOrder explains the four poll order errors: inside one poll
// (int-) or across one process's consecutive polls, a key skipped
// messages or went back.
func (x *kexplainer) planPollOrder(t string, count int, cases []edn.Map) func() []results.Finding {
	cases = cases[:min(len(cases), results.MaxExamples)]
	x.drawFirst(cases)
	for _, c := range cases {
		k := caseKey(c)
		for _, s := range skippedOf(c) {
			x.idx.msg(k, s)
		}
	}
	inside := strings.HasPrefix(t, "int-")
	skip := strings.HasSuffix(t, "skip")
	return func() []results.Finding {
		var ex []results.Example
		var tally pollOrderTally
		for _, c := range cases {
			ex = append(ex, x.pollOrderExample(c, inside, skip, &tally))
		}
		sum := pollOrderSummary(t, count, len(cases), skip, tally)
		return []results.Finding{{Section: "workload", Kind: t, Count: count, Short: fmt.Sprintf("%s ×%d", t, count), Summary: sum + ".", Examples: ex}}
	}
}

// pollOrderTally counts, over the poll order cases shown, those with a
// failed poll in between and the skipped messages that other polls did
// (elsewhere) or no poll (nowhere) return.
type pollOrderTally struct {
	failedBetween      int
	elsewhere, nowhere int
}

// skippedOf reads a poll order case's :skipped messages as text.
func skippedOf(c edn.Map) []string {
	var skipped []string
	for _, v := range edn.Items(c.Lookup("skipped")) {
		skipped = append(skipped, history.Key(v))
	}
	return skipped
}

// pollOrderOps returns the polls a poll order case names: its one :op
// inside a poll, its :ops across polls.
func (x *kexplainer) pollOrderOps(c edn.Map, inside bool) []history.Op {
	var ops []history.Op
	if inside {
		if op, ok := x.opOf(c.Lookup("op")); ok {
			ops = append(ops, op)
		}
		return ops
	}
	for _, v := range edn.Items(c.Lookup("ops")) {
		if op, ok := x.opOf(v); ok {
			ops = append(ops, op)
		}
	}
	return ops
}

// pollOrderExample tells one poll order case: what the poll or polls
// returned of its key, then what became of the messages it skipped.
func (x *kexplainer) pollOrderExample(c edn.Map, inside, skip bool, tally *pollOrderTally) results.Example {
	k := caseKey(c)
	d, _ := history.Int(c.Lookup("delta"))
	skipped := skippedOf(c)
	ops := x.pollOrderOps(c, inside)
	vals := edn.Items(c.Lookup("values"))
	var text string
	var lines []string
	switch {
	case inside && len(ops) == 1 && len(vals) == 2:
		text, lines = x.insidePollStory(ops[0], k, vals, d, skip, skipped)
	case !inside && len(ops) == 2:
		text, lines = x.nextPollStory(ops[0], ops[1], k, skip, skipped)
		if f, ok := x.failedPollBetween(ops[0], ops[1]); ok {
			tally.failedBetween++
			lines = append(lines, fmt.Sprintf("in between, its poll %s failed (%s): Maelstrom's client had already moved its offsets past what that poll received, which the history never shows",
				explain.At(f.Time), explain.ErrorName(f)))
		}
	default:
		text = fmt.Sprintf("%s: delta %d", q(k), d)
	}
	lines = append(lines, x.skippedStories(k, skipped, tally)...)
	return results.Example{Text: text, Lines: lines, File: x.picture(k)}
}

// insidePollStory tells one poll that returned the two values of a case
// of key k out of order: with messages skipped between them, or going
// back 1-d positions in the log (d is the case's :delta).
func (x *kexplainer) insidePollStory(op history.Op, k string, vals []any, d int64, skip bool, skipped []string) (string, []string) {
	a, b := history.Key(vals[0]), history.Key(vals[1])
	pairs := kafkaPolledOf(op, k)
	offA, offB := kafkaOffsetOf(pairs, a, true), kafkaOffsetOf(pairs, b, false)
	var text string
	if skip {
		text = fmt.Sprintf("one poll by %s returned message %s (offset %d) then %s (offset %d) of %s, leaving out %s",
			x.ev.Who(op), a, offA, b, offB, q(k), kafkaMessages(skipped)+" "+kafkaList(skipped, len(skipped)))
	} else {
		text = fmt.Sprintf("one poll by %s returned message %s (offset %d) then %s (offset %d) of %s, going back %s in the log",
			x.ev.Who(op), a, offA, b, offB, q(k), results.Plural(int(1-d), "position"))
	}
	return text, []string{x.pollStory(op, k, offA, offB)}
}

// nextPollStory tells how a process's poll of key k began where its
// previous poll had not left off: past skipped messages, or back.
func (x *kexplainer) nextPollStory(prevOp, curOp history.Op, k string, skip bool, skipped []string) (string, []string) {
	prev, cur := kafkaPolledOf(prevOp, k), kafkaPolledOf(curOp, k)
	var last, first kpair
	if len(prev) > 0 {
		last = prev[len(prev)-1]
	}
	if len(cur) > 0 {
		first = cur[0]
	}
	var text string
	if skip {
		text = fmt.Sprintf("%s polled %s up to message %s (offset %d); its next poll began at %s (offset %d), skipping %s",
			x.ev.Who(curOp), q(k), last.msg, last.off, first.msg, first.off, kafkaMessages(skipped)+" "+kafkaList(skipped, len(skipped)))
	} else {
		text = fmt.Sprintf("%s polled %s up to message %s (offset %d); its next poll began back at %s (offset %d)",
			x.ev.Who(curOp), q(k), last.msg, last.off, first.msg, first.off)
	}
	return text, []string{x.pollStory(prevOp, k, last.off), "then " + x.pollStory(curOp, k, first.off)}
}

// skippedStories tells, for the first three skipped messages of key k,
// how each was sent and whether other polls returned it; it tallies
// every skipped message the index knows as returned elsewhere or nowhere.
func (x *kexplainer) skippedStories(k string, skipped []string, tally *pollOrderTally) []string {
	var lines []string
	for i, s := range skipped {
		f := x.idx.msgs[k][s]
		if f == nil {
			continue
		}
		if f.polls > 0 {
			tally.elsewhere++
		} else {
			tally.nowhere++
		}
		if i >= 3 {
			continue
		}
		switch {
		case len(f.sends) > 0:
			lines = append(lines, fmt.Sprintf("skipped message %s: %s", s, x.sendStory(f.sends[0])))
		case f.firstPoll >= 0:
			lines = append(lines, fmt.Sprintf("skipped message %s: %s", s, x.seenStory(k, f.pollOff, kseenAt{msg: s, op: f.firstPoll, poll: true})))
		}
		if f.polls == 0 {
			lines = append(lines, fmt.Sprintf("no poll ever returned message %s", s))
		} else if f.firstPoll >= 0 {
			lines = append(lines, fmt.Sprintf("other polls did return message %s (%s, the first %s)", s,
				results.Plural(f.polls, "poll"), x.seenStory(k, f.pollOff, kseenAt{msg: s, op: f.firstPoll, poll: true})))
		}
	}
	return lines
}

// pollOrderSummary sums up count cases of poll order error t, shown
// cases of which are told: what the error means and, for skips, whether
// other polls returned the messages left out.
func pollOrderSummary(t string, count, shown int, skip bool, tally pollOrderTally) string {
	var sum string
	switch t {
	case "int-poll-skip":
		sum = fmt.Sprintf("%s, consecutive messages of a key in one poll reply jump over offsets that hold messages: the poll left those out", kafkaTimes(count))
	case "int-nonmonotonic-poll":
		sum = fmt.Sprintf("%s, a poll reply listed a key's messages out of offset order, or one twice", kafkaTimes(count))
	case "poll-skip":
		sum = fmt.Sprintf("%s, a process's next poll of a key began past messages it had not yet received, so it never saw them", kafkaTimes(count))
		if tally.failedBetween > 0 {
			sum += fmt.Sprintf("; in %s a failed poll of that process came in between (its commit_offsets failed after the client had moved on)", kafkaEvery(tally.failedBetween, shown))
		}
	case "nonmonotonic-poll":
		sum = fmt.Sprintf("%s, a process's next poll of a key began at or before a message it had already received", kafkaTimes(count))
	}
	if !skip {
		return sum
	}
	switch {
	case tally.elsewhere > 0 && tally.nowhere == 0:
		sum += "; other polls returned the skipped messages shown, so the log had them but left them out"
	case tally.nowhere > 0 && tally.elsewhere == 0:
		sum += "; no poll ever returned the skipped messages shown: the log acknowledged them but never served them"
	case tally.nowhere > 0:
		sum += fmt.Sprintf("; of the skipped messages shown, other polls returned %d, no poll %d", tally.elsewhere, tally.nowhere)
	}
	return sum
}

// kafkaMessages is "message" or "messages" for a list of them.
func kafkaMessages(ms []string) string {
	if len(ms) == 1 {
		return "message"
	}
	return "messages"
}

// kafkaTimes opens a sentence with a count of cases: "In 1 case" /
// "In 3 cases".
func kafkaTimes(n int) string {
	return "In " + results.Plural(n, "case")
}

// kafkaOffsetOf returns the offset of message m in pairs: the first (or
// last) occurrence, -1 if absent.
func kafkaOffsetOf(pairs []kpair, m string, first bool) int64 {
	off := int64(-1)
	for _, p := range pairs {
		if p.msg == m {
			off = p.off
			if first {
				break
			}
		}
	}
	return off
}

// failedPollBetween returns a :fail poll of a's process completed between
// a and b.
func (x *kexplainer) failedPollBetween(a, b history.Op) (history.Op, bool) {
	if a.Index < 0 || b.Index > len(x.ev.Ops) || a.Index >= b.Index {
		return history.Op{}, false
	}
	for _, op := range x.ev.Ops[a.Index+1 : b.Index] {
		if op.Process == a.Process && op.F == "poll" && op.Type == history.Fail {
			return op, true
		}
	}
	return history.Op{}, false
}

// planSendOrder explains :nonmonotonic-send: a process's later send to a
// key acknowledged at an earlier place in the log.
func (x *kexplainer) planSendOrder(count int, cases []edn.Map) func() []results.Finding {
	cases = cases[:min(len(cases), results.MaxExamples)]
	return func() []results.Finding {
		var ex []results.Example
		for _, c := range cases {
			k := caseKey(c)
			var lines []string
			var offs []string
			var who string
			for _, v := range edn.Items(c.Lookup("ops")) {
				op, ok := x.opOf(v)
				if !ok {
					continue
				}
				who = x.ev.Who(op)
				lines = append(lines, x.sendOpStory(op.Index))
				if _, m, off, hasOff, _ := kafkaSent(op); hasOff {
					offs = append(offs, fmt.Sprintf("%s at offset %d", history.Key(m), off))
				} else {
					offs = append(offs, history.Key(m)+" (offset unknown)")
				}
			}
			ex = append(ex, results.Example{Text: fmt.Sprintf("%s sent to %s %s: the later send sits no later in the log",
				who, q(k), strings.Join(offs, ", then ")), Lines: lines})
		}
		sum := fmt.Sprintf("%s, a process's send to a key was placed in the log at or before its own earlier send to that key: a log must order one client's sends as it sent them", kafkaTimes(count))
		return []results.Finding{{Section: "workload", Kind: "nonmonotonic-send", Count: count,
			Short: fmt.Sprintf("nonmonotonic-send ×%d", count), Summary: sum + ".", Examples: ex}}
	}
}

// cycles explains Elle's cycles over sends and polls (in practice
// :G1c-realtime): each step of the cycle as a sentence.
func (x *kexplainer) cycles(t string, count int, cases []edn.Map) []results.Finding {
	var ex []results.Example
	for _, c := range cases[:min(len(cases), results.MaxExamples)] {
		var ops []history.Op
		for _, v := range edn.Items(c.Lookup("cycle")) {
			if op, ok := x.opOf(v); ok {
				ops = append(ops, op)
			}
		}
		steps := edn.Items(c.Lookup("steps"))
		var lines []string
		for i, s := range steps {
			if i+1 >= len(ops) {
				break
			}
			sm, _ := s.(edn.Map)
			a, b := ops[i], ops[i+1]
			switch kafkaName(sm.Lookup("type")) {
			case "wr":
				lines = append(lines, fmt.Sprintf("%s sent %s to %s; %s's poll %s returned it", x.ev.Who(a),
					history.Key(sm.Lookup("value")), q(caseKey(sm)), x.ev.Who(b), explain.At(b.Time)))
			case "realtime":
				lines = append(lines, fmt.Sprintf("%s's %s completed %s, before %s's %s began %s", x.ev.Who(a), a.F,
					explain.At(a.Time), x.ev.Who(b), b.F, explain.At(x.began(b))))
			default:
				lines = append(lines, fmt.Sprintf("%s → %s (%s)", x.ev.Who(a), x.ev.Who(b), kafkaName(sm.Lookup("type"))))
			}
		}
		text := fmt.Sprintf("a cycle of %s", results.Plural(len(steps), "step"))
		if len(steps) == 2 && len(ops) == 3 {
			// A poll and a send: the poll saw what the send had not yet sent.
			for i, s := range steps {
				sm, _ := s.(edn.Map)
				if kafkaName(sm.Lookup("type")) == "wr" {
					w, r := ops[i], ops[i+1]
					text = fmt.Sprintf("%s's poll %s returned message %s of %s, which %s began to send only after that poll completed",
						x.ev.Who(r), explain.At(r.Time), history.Key(sm.Lookup("value")), q(caseKey(sm)), x.ev.Who(w))
				}
			}
		}
		ex = append(ex, results.Example{Text: text, Lines: lines})
	}
	sum := fmt.Sprintf("Elle found %s (:%s) among sends and polls: a poll returned a message whose send began only after that poll had completed", results.Plural(count, "cycle"), t)
	return []results.Finding{{Section: "workload", Kind: t, Count: count, Short: fmt.Sprintf("%s ×%d", t, count), Summary: sum + ".", Examples: ex}}
}

// planCommitted explains the :glomers committed-offsets check: an assign
// whose list_committed_offsets answered a key lower than a commit
// acknowledged before it, or not at all.
func (x *kexplainer) planCommitted(m edn.Map) func() []results.Finding {
	return func() []results.Finding {
		n, _ := history.Int(m.Lookup("count"))
		count := int(n)
		var ex []results.Example
		missing, elsewhere := 0, 0 // cases shown: key left out; asked of another node than the commit's
		cases := edn.Items(m.Lookup("errs"))
		for _, v := range cases[:min(len(cases), results.MaxExamples)] {
			c, _ := v.(edn.Map)
			k := caseKey(c)
			want, _ := history.Int(c.Lookup("expected"))
			got, present := history.Int(c.Lookup("committed"))
			var lines []string
			commitWho, askWho := "", ""
			commitNode := ""
			if p, ok := x.opOf(c.Lookup("commit")); ok {
				commitWho, commitNode = x.ev.Who(p), x.ev.NodeOf(p.Process)
				lines = append(lines, x.pollStory(p, k, want)+fmt.Sprintf(", and Maelstrom's client committed offset %d of %s", want, q(k)))
			}
			if a, ok := x.opOf(c.Lookup("assign")); ok {
				askWho = x.ev.Who(a)
				if n := x.ev.NodeOf(a.Process); n != "" && commitNode != "" && n != commitNode {
					elsewhere++
				}
				answer := fmt.Sprintf("answered %d", got)
				if !present {
					answer = "left " + q(k) + " out"
				}
				lines = append(lines, fmt.Sprintf("then %s assigned %s %s: list_committed_offsets %s", askWho, kafkaAssignedKeys(a), explain.At(a.Time), answer))
			}
			var text string
			if present {
				text = fmt.Sprintf("%s: committed %d (by %s), later listed as %d (to %s)", q(k), want, commitWho, got, askWho)
			} else {
				missing++
				text = fmt.Sprintf("%s: committed %d (by %s), later left out of the list (to %s)", q(k), want, commitWho, askWho)
			}
			ex = append(ex, results.Example{Text: text, Lines: lines})
		}
		sum := fmt.Sprintf("%s, list_committed_offsets answered a key below an offset already committed", kafkaTimes(count))
		if missing > 0 {
			sum = fmt.Sprintf("%s, list_committed_offsets answered a key below an offset already committed, or left it out", kafkaTimes(count))
		}
		sum += ": committed offsets must never go back (Maelstrom itself does not check this)"
		if elsewhere > 0 {
			sum += fmt.Sprintf("; in %s shown, the commit went to one node and list_committed_offsets to another", kafkaEvery(elsewhere, len(ex)))
		}
		return []results.Finding{{Section: "glomers", Kind: "committed-offsets", Count: count,
			Short: results.Plural(count, "commit") + " gone back", Summary: sum + ".", Examples: ex}}
	}
}

// kafkaAssignedKeys renders an assign's keys: keys "3", "5".
func kafkaAssignedKeys(op history.Op) string {
	var ks []string
	for _, k := range edn.Items(op.Value) {
		ks = append(ks, fmt.Sprintf("%q", kafkaKeyLabel(k)))
	}
	if len(ks) > 6 {
		ks = append(ks[:6], "…")
	}
	if len(ks) == 1 {
		return "key " + ks[0]
	}
	return "keys " + strings.Join(ks, ", ")
}
