package kafka

import (
	"bytes"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/results"
)

// explainHistory checks ops with Check and CheckCommittedOffsets, as the
// runner does, and explains the result for two nodes and concurrency 2:
// even processes send to n0, odd ones to n1.
func explainHistory(t *testing.T, ops []history.Op) []results.Finding {
	t.Helper()
	ev := &explain.Evidence{Ops: ops, Nodes: []string{"n0", "n1"}, Concurrency: 2,
		Workload: Check(ops), Extra: CheckCommittedOffsets(ops)}
	return explainKafka(ev)
}

// finding returns the finding of kind, failing t when there is none.
func finding(t *testing.T, fs []results.Finding, kind string) results.Finding {
	t.Helper()
	for _, f := range fs {
		if f.Kind == kind {
			return f
		}
	}
	t.Fatalf("no %s finding among %s", kind, kinds(fs))
	return results.Finding{}
}

func kinds(fs []results.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Kind)
	}
	return out
}

// allText joins a finding's summary and examples, for searching.
func allText(f results.Finding) string {
	parts := []string{f.Summary, f.Short}
	for _, e := range f.Examples {
		parts = append(parts, e.Text)
		parts = append(parts, e.Lines...)
	}
	return strings.Join(parts, "\n")
}

func expectIn(t *testing.T, f results.Finding, want ...string) {
	t.Helper()
	s := allText(f)
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s finding lacks %q:\n%s", f.Kind, w, s)
		}
	}
}

func expectNotIn(t *testing.T, f results.Finding, unwanted ...string) {
	t.Helper()
	s := allText(f)
	for _, w := range unwanted {
		if strings.Contains(s, w) {
			t.Errorf("%s finding says %q, which the history does not show:\n%s", f.Kind, w, s)
		}
	}
}

func TestExplainValidHistoryHasNoFindings(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(1, "k", 1, 2)
	b.kpoll(0, "k", kPairs(0, 1, 1, 2))
	if fs := explainHistory(t, b.Ops); len(fs) != 0 {
		t.Errorf("a valid history explained as %v", fs)
	}
}

// Two nodes hand out offset 0 to two messages: the lost write is blamed
// on the message polled at its offset, named with the node that
// acknowledged each.
func TestExplainLostWriteToSharedOffset(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(1, "k", 0, 2).ksend(0, "k", 1, 3)
	b.kpoll(0, "k", kPairs(0, 1, 1, 3))
	fs := explainHistory(t, b.Ops)
	if got, want := kinds(fs), []string{"inconsistent-offsets", "lost-write", "unseen"}; !slices.Equal(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	lost := finding(t, fs, "lost-write")
	if lost.Count != 1 || lost.Section != "workload" || len(lost.Examples) != 1 {
		t.Errorf("lost-write count %d section %q examples %d", lost.Count, lost.Section, len(lost.Examples))
	}
	expectIn(t, lost, "one offset to two messages", `key "k": message 2, acknowledged at offset 0, was never polled; polls returned 1 at that offset instead`,
		`process 1 (on n1) sent 2 to key "k" at 0.00 s: acknowledged with offset 0`,
		`process 0 (on n0) polled 1 at offset 0 of key "k"`)
	expectNotIn(t, lost, "never served")
	inc := finding(t, fs, "inconsistent-offsets")
	expectIn(t, inc, "offset 0 of key \"k\" holds 2 different messages: 1 and 2", "sends to different nodes were acknowledged with the same offset",
		"process 0 (on n0) sent 1", "process 1 (on n1) sent 2")
	unseen := finding(t, fs, "unseen")
	if unseen.Count != 1 {
		t.Errorf("unseen count %d, want 1", unseen.Count)
	}
	expectIn(t, unseen, `key "k": 1 acknowledged message never polled (2)`, "polls went past the offsets")
}

// A message acknowledged at an offset no poll ever served is lost, and
// nothing else is blamed: no other message was seen there, and the
// partition in the history healed before the send.
func TestExplainLostWriteNotBlamedOnPartitionOrSharedOffset(t *testing.T) {
	b := newBuilder()
	partition := edn.Vector{edn.Keyword("isolated"), edn.Map{{Key: "n0", Val: edn.Set{"n1"}}, {Key: "n1", Val: edn.Set{"n0"}}}}
	b.Add(history.Info, history.NemesisProcess, nemesis.StartPartition, nil)
	b.Add(history.Info, history.NemesisProcess, nemesis.StartPartition, partition)
	b.Add(history.Info, history.NemesisProcess, nemesis.StopPartition, nil)
	b.Add(history.Info, history.NemesisProcess, nemesis.StopPartition, "network healed")
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2).ksend(0, "k", 2, 3)
	b.kpoll(1, "k", kPairs(0, 1, 2, 3))
	fs := explainHistory(t, b.Ops)
	lost := finding(t, fs, "lost-write")
	expectIn(t, lost, "no poll returned anything at the offsets they were acknowledged with",
		"no poll returned anything at offset 1 of key \"k\"", "yet polls of key \"k\" reached offset 2")
	expectNotIn(t, lost, "partition", "one offset", "instead")
	skip := finding(t, fs, "int-poll-skip")
	expectIn(t, skip, "one poll by process 1 (on n1) returned message 1 (offset 0) then 3 (offset 2) of key \"k\", leaving out message 2",
		"no poll ever returned the skipped messages shown")
	expectNotIn(t, skip, "other polls did return")

	// The same history with n0 killed after it acknowledged message 2:
	// that fault is named as what followed, the healed partition still not.
	b.Add(history.Info, history.NemesisProcess, nemesis.KillOp, nil)
	b.Add(history.Info, history.NemesisProcess, nemesis.KillOp, []any{"n0"})
	lost = finding(t, explainHistory(t, b.Ops), "lost-write")
	expectIn(t, lost, "after n0 acknowledged it: n0 killed from")
	expectNotIn(t, lost, "partition")
}

// A poll skip after a failed poll of the same process names the failed
// poll (Maelstrom's client moved on although the poll failed); one
// without names none, and says the skipped message was polled by others.
func TestExplainPollSkip(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2).ksend(0, "k", 2, 3)
	b.kpoll(1, "k", kPairs(0, 1))
	b.Inv(1, "poll", kPoll()).Fail(1, "poll", kPoll()).kwithError([]any{edn.Keyword("temporarily-unavailable"), "no"})
	b.kpoll(1, "k", kPairs(2, 3))
	skip := finding(t, explainHistory(t, b.Ops), "poll-skip")
	expectIn(t, skip, "process 1 (on n1) polled key \"k\" up to message 1 (offset 0); its next poll began at 3 (offset 2), skipping message 2",
		"failed poll of that process came in between", "failed (error 11 temporarily-unavailable)", "no poll ever returned message 2")

	b = newBuilder()
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2).ksend(0, "k", 2, 3)
	b.kpoll(1, "k", kPairs(0, 1))
	b.kpoll(1, "k", kPairs(2, 3))
	b.kpoll(2, "k", kPairs(0, 1, 1, 2, 2, 3))
	fs := explainHistory(t, b.Ops)
	skip = finding(t, fs, "poll-skip")
	expectIn(t, skip, "other polls returned the skipped messages shown", "other polls did return message 2 (1 poll, the first process 2 (on n0) polled 2 at offset 1")
	expectNotIn(t, skip, "failed")
	if slices.Contains(kinds(fs), "lost-write") {
		t.Errorf("message 2 was polled, yet lost: %v", kinds(fs))
	}
}

func TestExplainG1aDuplicateAndNonmonotonicSend(t *testing.T) {
	b := newBuilder()
	b.Inv(0, "send", kSend("k", 1)).Fail(0, "send", kSend("k", 1)).kwithError([]any{edn.Keyword("temporarily-unavailable"), "try later"})
	b.kpoll(1, "k", kPairs(0, 1))
	b.kpoll(1, "k", kPairs())
	g1a := finding(t, explainHistory(t, b.Ops), "G1a")
	expectIn(t, g1a, "G1a ×1", `key "k": message 1 was polled although its send failed`,
		`process 0 (on n0) sent 1 to key "k" at 0.00 s: failed (error 11 temporarily-unavailable)`,
		`process 1 (on n1) polled at 0.00 s: key "k" came back as [0 1]`)

	b = newBuilder()
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2)
	b.kpoll(1, "k", kPairs(0, 1, 1, 2, 2, 1))
	fs := explainHistory(t, b.Ops)
	dup := finding(t, fs, "duplicate")
	expectIn(t, dup, `message 1 of key "k" is at offsets 0 and 2`, "the client sent each of those shown only once",
		`process 1 (on n1) polled 1 at offset 2 of key "k"`)
	send := finding(t, fs, "nonmonotonic-send")
	expectIn(t, send, `process 0 (on n0) sent to key "k" 1 at offset 0, then 2 at offset 1`)
	poll := finding(t, fs, "int-nonmonotonic-poll")
	expectIn(t, poll, "going back 2 positions")
}

func TestExplainCommittedOffsets(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(0, "k", 1, 2)
	b.kpoll(0, "k", kPairs(0, 1, 1, 2))
	b.Inv(1, "assign", []any{"k"}).OK(1, "assign", []any{"k"})
	b.Ops[b.klast()].Extra = edn.K("committed-offsets", map[string]any{"k": int64(0)})
	fs := explainHistory(t, b.Ops)
	if len(fs) != 1 {
		t.Fatalf("findings %v, want only the committed offsets", kinds(fs))
	}
	f := finding(t, fs, "committed-offsets")
	if f.Section != "glomers" || f.Count != 1 {
		t.Errorf("section %q count %d", f.Section, f.Count)
	}
	expectIn(t, f, `key "k": committed 1 (by process 0 (on n0)), later listed as 0 (to process 1 (on n1))`,
		"Maelstrom's client committed offset 1", `then process 1 (on n1) assigned key "k"`)
	expectIn(t, f, "1 commit gone back", "in the case shown, the commit went to one node and list_committed_offsets to another")
	expectNotIn(t, f, "left it out")

	// Asked of the node that took the commit, nothing is said of nodes.
	b.Inv(2, "assign", []any{"k"}).OK(2, "assign", []any{"k"})
	b.Ops[b.klast()].Extra = edn.K("committed-offsets", map[string]any{"k": int64(0)})
	b.Ops = slices.Delete(b.Ops, b.klast()-3, b.klast()-1) // process 1's assign
	for i := range b.Ops {
		b.Ops[i].Index = i
	}
	f = finding(t, explainHistory(t, b.Ops), "committed-offsets")
	expectIn(t, f, "later listed as 0 (to process 2 (on n0))")
	expectNotIn(t, f, "another")
}

func TestExplainUncheckableAndCycles(t *testing.T) {
	b := newBuilder()
	b.kpoll(0, "k", kPairs(0, 7))
	f := finding(t, explainHistory(t, b.Ops), "unknown")
	expectIn(t, f, "could not analyse", "no send of that message")

	// A poll returns a message whose send begins after the poll ended.
	b = newBuilder()
	b.ksend(1, "k", 0, 1)
	b.kpoll(0, "k", kPairs(0, 1, 1, 2))
	b.ksend(1, "k", 1, 2)
	fs := explainHistory(t, b.Ops)
	c := finding(t, fs, "G1c-realtime")
	expectIn(t, c, `process 0 (on n0)'s poll at 0.00 s returned message 2 of key "k", which process 1 (on n1) began to send only after that poll completed`, "a poll returned a message whose send began only after", `sent 2 to key "k"; process 0 (on n0)'s poll`, "completed at 0.00 s, before process 1 (on n1)'s send began")
}

// corruptKafka turns a simulated history into that of a log with holes
// and clashes: polls never return offsets that are 6 mod 7, and every
// 13th :ok send reports the offset before its own.
func corruptKafka(ops []history.Op) []history.Op {
	out := slices.Clone(ops)
	sends := 0
	for i := range out {
		op := &out[i]
		if op.Type != history.OK {
			continue
		}
		switch op.F {
		case "send":
			sends++
			if k, m, off, hasOff, ok := kafkaSent(*op); ok && hasOff && sends%13 == 0 {
				op.Value = kSendOK(k, off-1, m.(int64))
			}
		case "poll":
			reply := map[string]any{}
			kafkaEachPolled(op.Value, func(k string, list any) {
				kept := []any{}
				for _, p := range edn.Items(list) {
					if off, _, _ := kafkaPair(p); off%7 != 6 {
						kept = append(kept, p)
					}
				}
				reply[k] = kept
			})
			op.Value = []any{[]any{edn.Keyword("poll"), reply}}
		}
	}
	return out
}

// BenchmarkKafkaExplain analyses (Check and CheckCommittedOffsets) and
// explains an invalid history shaped like a 60 s, --rate 1000 run, and
// reports both times and the median ratio of explaining to analysing.
// The pictures are drawn too, into io.Discard.
func BenchmarkKafkaExplain(b *testing.B) {
	ops := corruptKafka(kafkaBenchHistory(true))
	var ratios []float64
	var analysing, explaining time.Duration
	findings := 0
	for b.Loop() {
		t0 := time.Now()
		res, extra := Check(ops), CheckCommittedOffsets(ops)
		t1 := time.Now()
		fs := explainKafka(&explain.Evidence{Ops: ops, Nodes: []string{"n0", "n1"}, Concurrency: 4, Workload: res, Extra: extra,
			WriteFile: func(_ string, write func(io.Writer) error) error { return write(io.Discard) }})
		t2 := time.Now()
		analysing += t1.Sub(t0)
		explaining += t2.Sub(t1)
		ratios = append(ratios, float64(t2.Sub(t1))/float64(t1.Sub(t0)))
		findings = len(fs)
	}
	slices.Sort(ratios)
	n := float64(len(ratios))
	b.ReportMetric(float64(analysing.Milliseconds())/n, "analysis-ms/op")
	b.ReportMetric(float64(explaining.Milliseconds())/n, "explain-ms/op")
	b.ReportMetric(ratios[len(ratios)/2], "explain/analysis")
	b.ReportMetric(float64(findings), "findings")
	b.ReportMetric(float64(len(ops)), "history-entries")
}

// The corrupted history the benchmark explains is invalid for the
// reasons it was made so, and each is explained.
func TestExplainCorruptedSimulatedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	ops := corruptKafka(newKafkaSim(3, false).run(5e9, 1_150_000))
	fs := explainHistory(t, ops)
	res := Check(ops)
	for _, kind := range []string{"lost-write", "unseen", "inconsistent-offsets", "int-poll-skip"} {
		f := finding(t, fs, kind)
		want := 0
		if kind == "unseen" {
			m, _ := res.Lookup("unseen").(edn.Map)
			for _, e := range m.Lookup("unseen").(edn.Map) {
				n, _ := history.Int(e.Val)
				want += int(n)
			}
		} else {
			n, _ := history.Int(res.Lookup(kind).(edn.Map).Lookup("count"))
			want = int(n)
		}
		if f.Count != want || want == 0 {
			t.Errorf("%s: count %d, checker's %d", kind, f.Count, want)
		}
		if len(f.Examples) == 0 || len(f.Examples) > results.MaxExamples {
			t.Errorf("%s: %d examples", kind, len(f.Examples))
		}
	}
}

// With a store, the examples link a drawing of their key's log that
// shows the clash at offset 0 and the message no poll returned; without
// one, they link nothing.
func TestExplainDrawsTheKeysLog(t *testing.T) {
	b := newBuilder()
	b.ksend(0, "k", 0, 1).ksend(1, "k", 0, 2).ksend(0, "k", 1, 3)
	b.kpoll(0, "k", kPairs(0, 1, 1, 3))
	b.kpoll(1, "k", kPairs(0, 1))
	files := map[string]*bytes.Buffer{}
	ev := &explain.Evidence{Ops: b.Ops, Nodes: []string{"n0", "n1"}, Concurrency: 2, Workload: Check(b.Ops),
		WriteFile: func(name string, write func(io.Writer) error) error {
			if files[name] != nil {
				t.Errorf("%s written twice", name)
			}
			files[name] = &bytes.Buffer{}
			return write(files[name])
		}}
	fs := explainKafka(ev)
	lost := finding(t, fs, "lost-write")
	name := lost.Examples[0].File
	if name != "kafka-key-1-k.svg" || files[name] == nil {
		t.Fatalf("lost-write example links %q; files %v", name, files)
	}
	if got := finding(t, fs, "inconsistent-offsets").Examples[0].File; got != name {
		t.Errorf("the clash links %q, not the key's drawing %q", got, name)
	}
	svg := files[name].String()
	for _, want := range []string{
		"key &#34;k&#34;: what each offset held",
		`fill="#fdd9b5"`, // offset 0 holds two messages
		`>2 <tspan fill="#c00">✗</tspan><title>message 2, acknowledged to process 1 (on n1), never returned by any poll</title>`,
		`>1 ×2<title>message 1, returned here by 2 polls</title>`,
		`>3<title>message 3, acknowledged to process 0 (on n0)</title>`,
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("the drawing lacks %s:\n%s", want, svg)
		}
	}
	if len(files) != 1 {
		t.Errorf("files %v, want the one key's", slices.Collect(maps.Keys(files)))
	}
	for _, f := range explainHistory(t, b.Ops) {
		for _, e := range f.Examples {
			if e.File != "" {
				t.Errorf("%s links %q although nothing is stored", f.Kind, e.File)
			}
		}
	}
}
