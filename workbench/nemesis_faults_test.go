package workbench_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// Tests of the kill and pause nemeses with in-process nodes, in virtual
// time.

func echoNode(n *node.Node) {
	n.Handle("echo", func(msg node.Message) error {
		var b map[string]any
		if err := msg.Unmarshal(&b); err != nil {
			return err
		}
		return n.Reply(msg, map[string]any{"type": "echo_ok", "echo": b["echo"]})
	})
}

// localSetNode is a g-set node that keeps its set in memory and never
// talks to other nodes: what a restart forgets is gone.
func localSetNode(n *node.Node) {
	var mu sync.Mutex
	set := []any{}
	n.Handle("add", func(msg node.Message) error {
		var b struct{ Element any }
		if err := msg.Unmarshal(&b); err != nil {
			return err
		}
		mu.Lock()
		set = append(set, b.Element)
		mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "add_ok"})
	})
	n.Handle("read", func(msg node.Message) error {
		mu.Lock()
		v := slices.Clone(set)
		mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "read_ok", "value": v})
	})
}

// window is one fault on one node: from the invocation and completion
// of the operation that began it to the invocation and completion of the
// one that ended it (times in ns since relative time began).
type window struct {
	node                        string
	beginInv, from, to, endDone int64
}

// nemesisPairs returns the nemesis ops as (invocation, completion) pairs:
// the nemesis performs one operation at a time, so they alternate.
func nemesisPairs(t *testing.T, ops []history.Op) [][2]history.Op {
	t.Helper()
	var nem []history.Op
	for _, op := range ops {
		if op.Process == history.NemesisProcess {
			if op.Type != history.Info {
				t.Fatalf("nemesis op %d is %v, want :info", op.Index, op.Type)
			}
			nem = append(nem, op)
		}
	}
	if len(nem)%2 != 0 {
		t.Fatalf("%d nemesis ops, an odd number", len(nem))
	}
	var out [][2]history.Op
	for i := 0; i < len(nem); i += 2 {
		if nem[i].F != nem[i+1].F {
			t.Fatalf("nemesis invocation %s completed as %s", nem[i].F, nem[i+1].F)
		}
		out = append(out, [2]history.Op{nem[i], nem[i+1]})
	}
	return out
}

// faultWindows pairs each begin op (kill, pause) with the end op (start,
// resume) that follows, checking that both carry the same one target in
// invocation and completion.
func faultWindows(t *testing.T, ops []history.Op, begin, end string) []window {
	t.Helper()
	var out []window
	var open *window
	for _, p := range nemesisPairs(t, ops) {
		inv, done := p[0], p[1]
		ids, _ := done.Value.([]string)
		if !slices.Equal(ids, inv.Value.([]string)) && (inv.F == begin || inv.F == end) {
			t.Fatalf("%s invoked on %v, completed on %v", inv.F, inv.Value, done.Value)
		}
		switch inv.F {
		case begin:
			if open != nil {
				t.Fatalf("%s while %v is still open", begin, open)
			}
			if len(ids) != 1 {
				t.Fatalf("%s value %#v, want one node id", begin, done.Value)
			}
			open = &window{node: ids[0], beginInv: inv.Time, from: done.Time}
		case end:
			if open == nil {
				if len(ids) != 0 {
					t.Fatalf("%s of %v with nothing to end", end, ids)
				}
				continue
			}
			if !slices.Equal(ids, []string{open.node}) {
				t.Fatalf("%s value %#v after %s of %s", end, done.Value, begin, open.node)
			}
			open.to, open.endDone = inv.Time, done.Time
			out = append(out, *open)
			open = nil
		}
	}
	return out
}

// nodeOf returns the node a client process talks to (thread i talks to
// node i mod n, and process p runs on thread p mod concurrency).
func nodeOf(cfg workbench.Config, process int) string {
	return cfg.NodeIDs[(process%cfg.Concurrency)%len(cfg.NodeIDs)]
}

// completions maps each client invocation's index to its completion.
func completions(ops []history.Op) map[int]history.Op {
	out := map[int]history.Op{}
	pending := map[int]int{}
	for i, op := range ops {
		if !op.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			pending[op.Process] = i
			continue
		}
		out[pending[op.Process]] = op
		delete(pending, op.Process)
	}
	return out
}

// A killed node answers nothing: every operation sent to it while it is
// down ends :info (a timeout), never :ok, and after its restart it
// answers again.
func TestKilledNodeOpsAreInfoNeverOK(t *testing.T) {
	var log bytes.Buffer
	cfg := workbench.Config{
		Workload: "echo", Node: workbench.InProcess(echoNode), NodeIDs: workbench.NodeIDs(3), Concurrency: 6,
		TimeLimit: 40 * time.Second, Rate: 20, Nemesis: []string{"kill"}, NemesisInterval: 4 * time.Second,
		Seed: 7, Log: &log,
	}
	res := workbenchtest.Run(t, cfg)
	ops := res.History
	wins := faultWindows(t, ops, "kill", "start")
	if len(wins) < 3 {
		t.Fatalf("only %d kill/start pairs in 40 s with interval 4 s", len(wins))
	}
	done := completions(ops)
	var whileDown, answeredAfter int
	for _, w := range wins {
		for i, op := range ops {
			if !op.IsClient() || op.Type != history.Invoke || nodeOf(cfg, op.Process) != w.node {
				continue
			}
			c, ok := done[i]
			switch {
			case op.Time > w.from && op.Time < w.to:
				whileDown++
				if !ok || c.Type != history.Info {
					t.Errorf("op %d to %s, invoked while it was down (%v–%v), completed %v, want :info", i, w.node,
						time.Duration(w.from), time.Duration(w.to), c.Type)
				}
			case op.Time > w.endDone && ok && c.Type == history.OK:
				answeredAfter++
			}
		}
	}
	if whileDown < 5 {
		t.Errorf("only %d ops were sent to a down node; the test proves little", whileDown)
	}
	if answeredAfter == 0 {
		t.Error("no restarted node answered an op")
	}
	// Requests that reach a down node are lost, not journalled as
	// received: at least one echo per op sent while down goes unreceived.
	var sent, received int
	for _, e := range res.Journal {
		var body struct{ Type string }
		if json.Unmarshal(e.Msg.Body, &body) != nil || body.Type != "echo" {
			continue
		}
		if e.Recv {
			received++
		} else {
			sent++
		}
	}
	if sent-received < whileDown {
		t.Errorf("%d echo requests sent, %d journalled as received, yet %d ops went to a down node", sent, received, whileDown)
	}
	for _, want := range []string{"Killing n", "Restarting n", "is up again (init_ok)"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if res.Valid != checker.Valid {
		t.Errorf("echo under kill: %v", workbenchtest.Get(t, res, "workload"))
	}
}

// A killed node's pending replies are lost with it: an operation whose
// request it took but had not answered when it was killed ends :info
// (the client's timeout), never :ok, even though a new life answers
// later requests.
func TestRepliesLostToAKillAreInfo(t *testing.T) {
	const delay = time.Second
	slowEcho := func(n *node.Node) {
		n.Handle("echo", func(msg node.Message) error {
			var b map[string]any
			if err := msg.Unmarshal(&b); err != nil {
				return err
			}
			time.Sleep(delay)
			return n.Reply(msg, map[string]any{"type": "echo_ok", "echo": b["echo"]})
		})
	}
	cfg := workbench.Config{
		Workload: "echo", Node: workbench.InProcess(slowEcho), NodeIDs: workbench.NodeIDs(3), Concurrency: 9,
		TimeLimit: 60 * time.Second, Rate: 20, Nemesis: []string{"kill"}, NemesisInterval: 3 * time.Second, Seed: 8,
	}
	ops := workbenchtest.Run(t, cfg).History
	done := completions(ops)
	var cut, okAfter int
	for _, w := range faultWindows(t, ops, "kill", "start") {
		for i, op := range ops {
			if !op.IsClient() || op.Type != history.Invoke || nodeOf(cfg, op.Process) != w.node {
				continue
			}
			c := done[i]
			// Taken before the kill, due to be answered after it. (An
			// in-process kill closes the node's pipes at once; its
			// completion waits for the old handlers to return.)
			if op.Time < w.beginInv && op.Time+int64(delay) > w.beginInv {
				cut++
				if c.Type != history.Info {
					t.Errorf("op %d to %s at %v, answer due at %v after its kill at %v, ended %v; want :info",
						i, w.node, time.Duration(op.Time), time.Duration(op.Time+int64(delay)), time.Duration(w.beginInv), c.Type)
				}
			}
			if op.Time > w.endDone && c.Type == history.OK {
				okAfter++
			}
		}
	}
	if cut < 5 || okAfter == 0 {
		t.Errorf("%d ops cut off by a kill, %d answered after a restart; want some of each", cut, okAfter)
	}
}

// An in-process node that is killed loses its memory: after the restart
// it reads none of what it was told before the kill.
func TestKilledInProcessNodeForgets(t *testing.T) {
	cfg := workbench.Config{
		Workload: "g-set", Node: workbench.InProcess(localSetNode), NodeIDs: workbench.NodeIDs(1), Concurrency: 2,
		TimeLimit: 60 * time.Second, Rate: 10, Nemesis: []string{"kill"}, NemesisInterval: 5 * time.Second,
		RecoveryWait: time.Second, Seed: 3,
	}
	res := workbenchtest.Run(t, cfg)
	ops := res.History
	done := completions(ops)
	wins := faultWindows(t, ops, "kill", "start")
	checked := 0
	for wi, w := range wins {
		// Elements acknowledged before the kill.
		before := map[string]bool{}
		for i, op := range ops {
			if op.IsClient() && op.Type == history.Invoke && op.F == "add" && done[i].Type == history.OK && done[i].Time < w.beginInv {
				before[fmt.Sprint(op.Value)] = true
			}
		}
		next := int64(1 << 62)
		if wi+1 < len(wins) {
			next = wins[wi+1].from
		}
		for i, op := range ops {
			c := done[i]
			if !op.IsClient() || op.Type != history.Invoke || op.F != "read" || c.Type != history.OK ||
				op.Time <= w.endDone || c.Time >= next {
				continue
			}
			vals, _ := c.Value.([]any)
			for _, v := range vals {
				if before[fmt.Sprint(v)] {
					t.Errorf("read %d after restart %d still holds %v, added before the kill", i, wi, v)
				}
			}
			if len(before) > 0 {
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no read after a restart followed acknowledged adds; the test proves nothing")
	}
	// Forgetting acknowledged adds is exactly what set-full must catch.
	if res.Valid == checker.Valid {
		t.Error("a set that forgets on restart was judged valid")
	}
}

// A paused node answers nothing until it is resumed; requests wait for
// it, and those that outlive the 5 s client timeout end :info.
func TestPausedNodeAnswersOnlyAfterResume(t *testing.T) {
	var log bytes.Buffer
	cfg := workbench.Config{
		Workload: "echo", Node: workbench.InProcess(echoNode), NodeIDs: workbench.NodeIDs(3), Concurrency: 6,
		TimeLimit: 40 * time.Second, Rate: 20, Nemesis: []string{"pause"}, NemesisInterval: 2 * time.Second,
		Seed: 5, Log: &log,
	}
	res := workbenchtest.Run(t, cfg)
	ops := res.History
	wins := faultWindows(t, ops, "pause", "resume")
	if len(wins) < 5 {
		t.Fatalf("only %d pause/resume pairs", len(wins))
	}
	done := completions(ops)
	var held, late int
	for _, w := range wins {
		for i, op := range ops {
			if !op.IsClient() || op.Type != history.Invoke || nodeOf(cfg, op.Process) != w.node ||
				op.Time <= w.from || op.Time >= w.to {
				continue
			}
			held++
			c, ok := done[i]
			if !ok {
				continue
			}
			if c.Type == history.OK {
				late++
				if c.Time < w.to {
					t.Errorf("op %d to paused %s answered at %v, before the resume at %v", i, w.node, time.Duration(c.Time), time.Duration(w.to))
				}
			}
		}
	}
	if held < 5 || late == 0 {
		t.Errorf("%d ops sent to a paused node, %d answered after the resume; want some of each", held, late)
	}
	for _, want := range []string{"Pausing n", "Resuming n"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if res.Valid != checker.Valid {
		t.Errorf("echo under pause: %v", workbenchtest.Get(t, res, "workload"))
	}
}

// Before the final phase every fault is undone, in Jepsen's order
// (stop-partition, resume, start), so every final read is answered; a
// kill and a pause never hit the same node.
func TestFaultsHealBeforeTheFinalPhase(t *testing.T) {
	cfg := workbench.Config{
		Workload: "g-set", Node: workbench.InProcess(localSetNode), NodeIDs: workbench.NodeIDs(3), Concurrency: 3,
		TimeLimit: 30 * time.Second, Rate: 10, Nemesis: []string{"kill", "pause", "partition"},
		NemesisInterval: 2 * time.Second, RecoveryWait: 2 * time.Second, Seed: 11,
	}
	for seed := uint64(11); seed < 14; seed++ {
		cfg.Seed = seed
		ops := workbenchtest.Run(t, cfg).History
		// The heal is the nemesis's last act; the final reads (g-set's carry
		// no :final? flag) are the invocations after it.
		lastNemesis := -1
		var tail []string
		for i, op := range ops {
			if op.Process == history.NemesisProcess {
				lastNemesis = i
				tail = append(tail, op.F)
			}
		}
		if len(tail) < 6 || !slices.Equal(tail[len(tail)-6:], []string{"stop-partition", "stop-partition", "resume", "resume", "start", "start"}) {
			t.Errorf("seed %d: nemesis ops end %v, want stop-partition, resume, start", seed, tail[max(0, len(tail)-6):])
		}
		done := completions(ops)
		finals := 0
		for i, op := range ops[lastNemesis+1:] {
			if op.IsClient() && op.Type == history.Invoke && op.F == "read" {
				finals++
				if c := done[lastNemesis+1+i]; c.Type != history.OK {
					t.Errorf("seed %d: final read %d ended %v: %v", seed, lastNemesis+1+i, c.Type, c.Error)
				}
			}
		}
		if finals != cfg.Concurrency {
			t.Errorf("seed %d: %d final reads, want %d", seed, finals, cfg.Concurrency)
		}
		// kill and pause targets never overlap.
		killed, paused := map[string]bool{}, map[string]bool{}
		for _, p := range nemesisPairs(t, ops) {
			ids, _ := p[1].Value.([]string)
			for _, id := range ids {
				switch p[0].F {
				case "kill":
					if paused[id] {
						t.Errorf("seed %d: %s killed while paused", seed, id)
					}
					killed[id] = true
				case "start":
					delete(killed, id)
				case "pause":
					if killed[id] {
						t.Errorf("seed %d: %s paused while killed", seed, id)
					}
					paused[id] = true
				case "resume":
					delete(paused, id)
				}
			}
		}
	}
}

// The seed decides the faults: their times, kinds and targets.
func TestSameSeedSameFaults(t *testing.T) {
	cfg := workbench.Config{
		Workload: "echo", Node: workbench.InProcess(echoNode), NodeIDs: workbench.NodeIDs(5),
		TimeLimit: 30 * time.Second, Rate: 10, Nemesis: []string{"partition", "kill", "pause"},
		NemesisInterval: 2 * time.Second, Seed: 21,
	}
	faults := func(ops []history.Op) string {
		var b strings.Builder
		for _, op := range ops {
			if op.Process == history.NemesisProcess {
				fmt.Fprintf(&b, "%v %s %s\n", time.Duration(op.Time).Round(time.Millisecond), op.F, history.Key(op.Value))
			}
		}
		return b.String()
	}
	a, b := faults(workbenchtest.Run(t, cfg).History), faults(workbenchtest.Run(t, cfg).History)
	if strings.Count(a, "\n") < 20 {
		t.Fatalf("only %d nemesis ops", strings.Count(a, "\n"))
	}
	for _, f := range []string{"start-partition", "kill", "start", "pause", "resume"} {
		if !strings.Contains(a, " "+f+" ") {
			t.Errorf("no %s op", f)
		}
	}
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n---\n%s", a, b)
	}
}
