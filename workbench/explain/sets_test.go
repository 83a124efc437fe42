package explain

import (
	"slices"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/netsim"
)

const sec = int64(1e9)

// lostSeven is a two-node broadcast history in which process 0 (on n0)
// broadcasts 7 at 2 s and n1's final read lacks it, with faults before.
func lostSeven(faults ...[]history.Op) []history.Op {
	var ops []history.Op
	for _, f := range faults {
		ops = append(ops, f...)
	}
	ops = append(ops,
		history.Op{Time: 2 * sec, Type: history.Invoke, Process: 0, F: "broadcast", Value: int64(7)},
		history.Op{Time: 2*sec + 1, Type: history.OK, Process: 0, F: "broadcast", Value: int64(7)},
		history.Op{Time: 10 * sec, Type: history.Invoke, Process: 0, F: "read", Final: true},
		history.Op{Time: 10 * sec, Type: history.Invoke, Process: 1, F: "read", Final: true},
		history.Op{Time: 10*sec + 1, Type: history.OK, Process: 0, F: "read", Final: true, Value: []any{int64(7)}},
		history.Op{Time: 10*sec + 2, Type: history.OK, Process: 1, F: "read", Final: true, Value: []any{}},
	)
	for i := range ops {
		ops[i].Index = i
	}
	return ops
}

// halves cuts n0 and n1 off from each other.
var halves = nemesis.Grudge{"n0": {"n1"}, "n1": {"n0"}}

var partition = nemesisOps(nemesis.StartPartition, 1*sec, nil, halves.Isolated())

var heal = nemesisOps(nemesis.StopPartition, 3*sec, nil, nil)

// gossip is a message from n0 to n1 carrying 7.
func gossip(id int64) *netsim.Message {
	return &netsim.Message{ID: id, Src: "n0", Dest: "n1", Body: []byte(`{"type":"gossip","message":7,"msg_id":` + string(rune('0'+id)) + `}`)}
}

func evidence(ops []history.Op, events ...netsim.Event) *Evidence {
	return &Evidence{
		Ops: ops, Nodes: []string{"n0", "n1"}, Concurrency: 2,
		Workload: edn.K("valid?", false, "lost", edn.List{int64(7)}, "lost-count", 1),
		Journal: func(yield func(netsim.Event) bool) error {
			for _, e := range events {
				if !yield(e) {
					break
				}
			}
			return nil
		},
	}
}

var broadcastSet = SetWorkload{AddF: "broadcast", Noun: "value"}

func TestSetFullBlamesThePartitionThatDropped(t *testing.T) {
	ev := evidence(lostSeven(partition, heal),
		netsim.Event{Time: 2 * sec, Msg: gossip(5)},
		netsim.Event{Time: 2*sec + 100, Msg: gossip(5), Drop: netsim.DropPartition},
		// a client's message is not a server message
		netsim.Event{Time: 2 * sec, Msg: &netsim.Message{ID: 6, Src: "c1", Dest: "n0", Body: []byte(`{"message":7}`)}},
	)
	found, err := SetFull(ev, broadcastSet)
	if err != nil || len(found) != 1 {
		t.Fatalf("%v, %+v", err, found)
	}
	f := found[0]
	if f.Kind != "lost" || f.Count != 1 || f.Short != "lost 1 value" {
		t.Errorf("%+v", f)
	}
	want := "1 acknowledged value is missing from the final reads; 1 server message carrying it was dropped by partitions, and none was re-sent after a heal."
	if f.Summary != want {
		t.Errorf("summary\n%q, want\n%q", f.Summary, want)
	}
	story := strings.Join(f.Examples[0].Lines, "\n")
	for _, w := range []string{
		"process 0 (on n0): broadcast 7 at 2.00 s, acknowledged at 2.00 s",
		"n0 → n1 sent at 2.00 s: dropped at 2.00 s by the partition n0 | n1 from 1.00 s to 3.00 s",
		"n1's final read, by process 1 at 10.00 s, lacks 7",
		"nothing sent 7 again",
	} {
		if !strings.Contains(story, w) {
			t.Errorf("story lacks %q:\n%s", w, story)
		}
	}
}

func TestSetFullSeesAResendAfterTheHeal(t *testing.T) {
	ev := evidence(lostSeven(partition, heal),
		netsim.Event{Time: 2 * sec, Msg: gossip(5)},
		netsim.Event{Time: 2*sec + 100, Msg: gossip(5), Drop: netsim.DropPartition},
		netsim.Event{Time: 4 * sec, Msg: gossip(8)},
		netsim.Event{Time: 4*sec + 100, Recv: true, Msg: gossip(8)},
	)
	found, _ := SetFull(ev, broadcastSet)
	f := found[0]
	for _, w := range []string{"1 of the 1 dropped before a heal was re-sent after it", "once a node that had held one"} {
		if !strings.Contains(f.Summary, w) {
			t.Errorf("summary %q lacks %q", f.Summary, w)
		}
	}
	if strings.Contains(f.Summary, "none was re-sent") {
		t.Errorf("summary %q denies the re-send", f.Summary)
	}
	if !slices.ContainsFunc(f.Examples[0].Lines, func(l string) bool { return strings.Contains(l, "it was delivered a message carrying it at 4.00 s") }) {
		t.Errorf("the story does not say n1 got 7: %q", f.Examples[0].Lines)
	}
}

// A message dropped because its receiver was killed must not be blamed on
// a partition, even though one was in force earlier.
func TestSetFullDoesNotBlameAPartitionForAKill(t *testing.T) {
	kill := nemesisOps(nemesis.KillOp, 1500*1e6, []string{"n1"}, []string{"n1"})
	start := nemesisOps(nemesis.StartOp, 3*sec, []string{"n1"}, []string{"n1"})
	early := nemesisOps(nemesis.StartPartition, sec/10, nil, halves.Isolated())
	stopEarly := nemesisOps(nemesis.StopPartition, sec, nil, nil)
	ev := evidence(lostSeven(early, stopEarly, kill, start),
		netsim.Event{Time: 2 * sec, Msg: gossip(5)},
		netsim.Event{Time: 2*sec + 100, Msg: gossip(5), Drop: netsim.DropDown},
	)
	found, _ := SetFull(ev, broadcastSet)
	f := found[0]
	if strings.Contains(f.Summary, "partition") || !strings.Contains(f.Summary, "dropped because the receiver was down") {
		t.Errorf("summary %q", f.Summary)
	}
	story := strings.Join(f.Examples[0].Lines, "\n")
	if strings.Contains(story, "partition") || !strings.Contains(story, "n1 killed from 1.50 s to 3.00 s") {
		t.Errorf("story:\n%s", story)
	}
}

// A value nobody passed on is the node's doing, not the network's.
func TestSetFullNoMessageCarriedIt(t *testing.T) {
	ev := evidence(lostSeven(partition, heal),
		netsim.Event{Time: 2 * sec, Msg: &netsim.Message{ID: 9, Src: "n0", Dest: "n1", Body: []byte(`{"type":"gossip","message":8,"msg_id":7}`)}},
		netsim.Event{Time: 2*sec + 100, Msg: &netsim.Message{ID: 9, Src: "n0", Dest: "n1", Body: []byte(`{"type":"gossip","message":8,"msg_id":7}`)}, Drop: netsim.DropPartition},
	)
	found, _ := SetFull(ev, broadcastSet)
	f := found[0]
	want := "1 acknowledged value is missing from the final reads; no server message ever carried 1 of them: the node that took each from a client never passed it on."
	if f.Summary != want {
		t.Errorf("summary\n%q, want\n%q", f.Summary, want)
	}
}

func TestSetFullWithoutJournalSaysSo(t *testing.T) {
	ev := evidence(lostSeven())
	ev.Journal = nil
	found, _ := SetFull(ev, broadcastSet)
	if len(found) != 1 || !strings.Contains(found[0].Summary, "no network journal") {
		t.Errorf("%+v", found)
	}
}

func TestIntegers(t *testing.T) {
	var got []int64
	Integers([]byte(`{"type":"gossip","msg_id":7,"in_reply_to":8,"messages":[1,-2,3.5,"4",5e3,"a\"12"],"x":{"y":9}, "z" : 10}`), func(n int64) { got = append(got, n) })
	if want := []int64{1, -2, 9, 10}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// A trail keeps a bounded story however many messages carried a value,
// yet counts them all, and sees a re-send after the heal for every drop,
// kept or not.
func TestTrailsAreBoundedButCountEverything(t *testing.T) {
	var events []netsim.Event
	const drops = 40
	for i := int64(0); i < drops; i++ {
		m := &netsim.Message{ID: 100 + i, Src: "n0", Dest: "n1", Body: []byte(`{"type":"gossip","messages":[7,8]}`)}
		events = append(events, netsim.Event{Time: 2 * sec, Msg: m}, netsim.Event{Time: 2*sec + 1, Msg: m, Drop: netsim.DropPartition})
	}
	again := &netsim.Message{ID: 999, Src: "n0", Dest: "n1", Body: []byte(`{"type":"gossip","messages":[7]}`)}
	events = append(events, netsim.Event{Time: 4 * sec, Msg: again})
	ev := evidence(lostSeven(partition, heal), events...)
	trails, err := Trails(ev, []int64{7, 8, 9})
	if err != nil {
		t.Fatal(err)
	}
	seven, eight, nine := trails[7], trails[8], trails[9]
	if seven.Sent != drops+1 || seven.ByFate[netsim.DropPartition] != drops || seven.ByFate[FateInFlight] != 1 || seven.Healed != drops || seven.Resent != drops {
		t.Errorf("7: %+v", seven)
	}
	if eight.Sent != drops || eight.Resent != 0 || eight.Healed != drops {
		t.Errorf("8 was never re-sent: %+v", eight)
	}
	if nine.Sent != 0 || len(nine.Messages) != 0 {
		t.Errorf("9 was never sent: %+v", nine)
	}
	if n := len(seven.Messages); n > maxTrailLost+maxTrailDelivered {
		t.Errorf("7 keeps %d messages", n)
	}
	kept := 0
	for _, c := range seven.Messages {
		if c.Fate == netsim.DropPartition {
			kept++
			if !c.ResentAfterHeal {
				t.Errorf("kept drop %+v not marked re-sent", c)
			}
		}
	}
	if kept == 0 {
		t.Error("no drop kept for the story")
	}
}
