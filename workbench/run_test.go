package workbench_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/solutions/broadcast"
	"github.com/glomers/glomers/solutions/echo"
	"github.com/glomers/glomers/solutions/uniqueids"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/workbenchtest"
	"github.com/glomers/glomers/workbench/workload/workloadtest"
)

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func TestEchoIsValidAndCountsMessages(t *testing.T) {
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: workbench.InProcess(echo.Register),
		NodeIDs: workbench.NodeIDs(1), TimeLimit: 10 * time.Second, Rate: 5, Seed: 1,
	})
	if res.Valid != checker.Valid {
		t.Fatalf("echo run is %v: %v", res.Valid, res.Results)
	}
	ops := 0
	for _, op := range res.History {
		if op.Type == history.Invoke {
			ops++
		}
	}
	if ops < 20 || ops > 90 {
		t.Errorf("%d echo ops in 10 s at rate 5", ops)
	}
	// Maelstrom's worked example: 2 messages per echo plus init and init_ok.
	if got := workbenchtest.Get(t, res, "net", "clients", "msg-count"); got != 2*ops+2 {
		t.Errorf("client msg-count %v, want %d", got, 2*ops+2)
	}
	if got := workbenchtest.Get(t, res, "net", "servers", "msg-count"); got != 0 {
		t.Errorf("server msg-count %v, want 0", got)
	}
}

func TestSameSeedSameRun(t *testing.T) {
	cfg := workbench.Config{
		Workload: "broadcast", Node: workbench.InProcess(func(n *node.Node) { broadcast.Register(n) }),
		NodeIDs: workbench.NodeIDs(5), TimeLimit: 5 * time.Second, Rate: 20, Seed: 42, Latency: 10 * time.Millisecond,
		Nemesis: []string{"partition"}, NemesisInterval: time.Second, RecoveryWait: time.Second,
	}
	a, b := workbenchtest.Run(t, cfg), workbenchtest.Run(t, cfg)
	// Worker scheduling at one virtual instant is up to the Go scheduler,
	// so compare what the seed decides: the generated operations in order
	// and the nemesis's partitions.
	choices := func(ops []history.Op) []string {
		var out []string
		for _, op := range ops {
			switch {
			case op.Process == history.NemesisProcess && op.Value != nil:
				out = append(out, op.F+" "+history.Key(op.Value))
			case op.Type == history.Invoke && !op.Final:
				out = append(out, op.F+" "+history.Key(op.Value))
			}
		}
		return out
	}
	ca, cb := choices(a.History), choices(b.History)
	if len(ca) < 50 {
		t.Fatalf("only %d choices recorded", len(ca))
	}
	if strings.Join(ca, "\n") != strings.Join(cb, "\n") {
		t.Errorf("same seed, different choices:\n%v\n%v", ca, cb)
	}
	cfg.Seed = 43
	if c := choices(workbenchtest.Run(t, cfg).History); strings.Join(c, "\n") == strings.Join(ca, "\n") {
		t.Errorf("a different seed made the same choices")
	}
}

func TestUniqueIDsUnderPartitions(t *testing.T) {
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "unique-ids", Node: workbench.InProcess(uniqueids.Register),
		NodeIDs: workbench.NodeIDs(3), TimeLimit: 5 * time.Second, Rate: 1000, Seed: 7,
		Availability: "total", Nemesis: []string{"partition"}, NemesisInterval: time.Second,
	})
	if res.Valid != checker.Valid {
		t.Fatalf("unique-ids: %v", res.Results)
	}
	if n := workbenchtest.Get(t, res, "workload", "acknowledged-count"); n.(int) < 3000 {
		t.Errorf("only %v ids acknowledged", n)
	}
}

func TestBroadcastTwentyFiveNodes(t *testing.T) {
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "broadcast", Node: workbench.InProcess(func(n *node.Node) { broadcast.Register(n) }),
		NodeIDs: workbench.NodeIDs(25), TimeLimit: 20 * time.Second, Rate: 100, Latency: 100 * time.Millisecond, Seed: 3,
	})
	if res.Valid != checker.Valid {
		t.Fatalf("broadcast: %v", workbenchtest.Get(t, res, "workload"))
	}
	if lost := workbenchtest.Get(t, res, "workload", "lost-count"); lost != 0 {
		t.Errorf("lost %v", lost)
	}
}

func TestBroadcastSurvivesPartitions(t *testing.T) {
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "broadcast", Node: workbench.InProcess(func(n *node.Node) { broadcast.Register(n) }),
		NodeIDs: workbench.NodeIDs(5), TimeLimit: 20 * time.Second, Rate: 10, Seed: 9, Nemesis: []string{"partition"},
	})
	if res.Valid != checker.Valid {
		t.Fatalf("broadcast under partitions: %v", workbenchtest.Get(t, res, "workload"))
	}
	var nemesisOps int
	for _, op := range res.History {
		if op.Process == history.NemesisProcess {
			nemesisOps++
		}
	}
	if nemesisOps < 4 {
		t.Errorf("only %d nemesis history entries", nemesisOps)
	}
}

// Each deliberately faulty node must be judged invalid.
func TestFaultyNodesAreInvalid(t *testing.T) {
	cases := []struct {
		fault, workload string
		nodes           int
		nemesis         bool
		rate            float64
	}{
		{"mangled-echo", "echo", 1, false, 5},
		{"colliding-ids", "unique-ids", 3, false, 100},
		{"silent-broadcast", "broadcast", 5, false, 10},
		{"lossy-broadcast", "broadcast", 5, false, 10},
		{"no-retry-broadcast", "broadcast", 5, true, 10},
	}
	for _, c := range cases {
		t.Run(c.fault, func(t *testing.T) {
			cfg := workbench.Config{
				Workload: c.workload, Node: workbench.InProcess(faulty.Nodes()[c.fault]),
				NodeIDs: workbench.NodeIDs(c.nodes), TimeLimit: 20 * time.Second, Rate: c.rate, Seed: 11,
				Latency: 10 * time.Millisecond,
			}
			if c.nemesis {
				cfg.Nemesis = []string{"partition"}
				cfg.NemesisInterval = 2 * time.Second
			}
			res := workbenchtest.Run(t, cfg)
			if res.Valid != checker.Invalid {
				t.Fatalf("%s judged %v, want invalid: %v", c.fault, res.Valid, workbenchtest.Get(t, res, "workload"))
			}
		})
	}
}

func TestNodeThatNeverAnswersInit(t *testing.T) {
	silent := func(stdin io.Reader, stdout, stderr io.Writer) error {
		_, err := io.Copy(io.Discard, stdin)
		return err
	}
	var log bytes.Buffer
	var err error
	synctest.Test(t, func(t *testing.T) {
		_, err = workbench.Run(context.Background(), workbench.Config{
			Workload: "echo", Node: silent, NodeIDs: workbench.NodeIDs(2), TimeLimit: time.Second, Log: &log,
		})
	})
	if err == nil || !strings.Contains(err.Error(), "did not respond") || !strings.Contains(err.Error(), "n0") {
		t.Fatalf("err = %v, want a did-not-respond error naming n0", err)
	}
}

func TestNodeThatPrintsJunk(t *testing.T) {
	junk := func(stdin io.Reader, stdout, stderr io.Writer) error {
		io.WriteString(stdout, "hello, I am not JSON\n")
		_, err := io.Copy(io.Discard, stdin)
		return err
	}
	var err error
	var took time.Duration
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		_, err = workbench.Run(context.Background(), workbench.Config{
			Workload: "echo", Node: junk, NodeIDs: workbench.NodeIDs(1), TimeLimit: time.Second, Log: io.Discard,
		})
		took = time.Since(start)
	})
	if err == nil || !strings.Contains(err.Error(), "not well-formed JSON") {
		t.Fatalf("err = %v, want a not-well-formed-JSON error", err)
	}
	if took >= 10*time.Second {
		t.Errorf("init waited %v for a node that can no longer be heard", took)
	}
}

func TestNodeThatCrashesMidTest(t *testing.T) {
	crashing := func(stdin io.Reader, stdout, stderr io.Writer) error {
		n := node.New(node.WithLogOutput(stderr))
		echo.Register(n)
		pr, pw := io.Pipe()
		go func() {
			buf := make([]byte, 1)
			lines := 0
			for {
				k, err := stdin.Read(buf)
				if k > 0 {
					pw.Write(buf[:k])
					if buf[0] == '\n' {
						lines++
						if lines == 5 {
							pw.Close()
							return
						}
					}
				}
				if err != nil {
					pw.CloseWithError(err)
					return
				}
			}
		}()
		n.Run(pr, stdout)
		io.WriteString(stderr, "panic: pretend something broke\n")
		return io.ErrUnexpectedEOF
	}
	var res *workbench.Result
	var err error
	synctest.Test(t, func(t *testing.T) {
		res, err = workbench.Run(context.Background(), workbench.Config{
			Workload: "echo", Node: crashing, NodeIDs: workbench.NodeIDs(1), TimeLimit: 10 * time.Second, Rate: 5, Log: io.Discard,
		})
	})
	if err == nil || !strings.Contains(err.Error(), "crashed") || !strings.Contains(err.Error(), "pretend something broke") {
		t.Fatalf("err = %v, want a crash report with the node's stderr", err)
	}
	if res == nil || len(res.History) == 0 {
		t.Fatalf("the history collected before the crash was lost")
	}
}

// A node whose reads repeat messages and invent one passes Maelstrom's
// checks; the :glomers section catches it, and --strict makes it count.
func TestStrictChecksCatchWhatMaelstromMisses(t *testing.T) {
	cfg := workbench.Config{
		Workload: "broadcast", Node: workbench.InProcess(faulty.EchoingBroadcast),
		NodeIDs: workbench.NodeIDs(3), TimeLimit: 5 * time.Second, Rate: 20, Seed: 4,
	}
	res := workbenchtest.Run(t, cfg)
	if res.Valid != checker.Valid {
		t.Fatalf("default verdict %v, want Maelstrom's (valid)", res.Valid)
	}
	extra := workbenchtest.Get(t, res, "glomers", "workload")
	if checker.ValidityOf(extra.(edn.Map)) != checker.Invalid {
		t.Fatalf(":glomers :workload = %v, want invalid", extra)
	}
	cfg.Strict = true
	if res := workbenchtest.Run(t, cfg); res.Valid != checker.Invalid {
		t.Fatalf("--strict verdict %v, want invalid", res.Valid)
	}
}

// kvProxy is a lin-kv node that forwards every request to a service and
// relays its answer: linearizable through lin-kv, not through lww-kv.
func kvProxy(service string) func(*node.Node) {
	return func(n *node.Node) {
		for _, typ := range []string{"read", "write", "cas"} {
			n.Handle(typ, func(msg node.Message) error { return workloadtest.Relay(n, msg, service) })
		}
	}
}

func TestLinKVWorkload(t *testing.T) {
	cfg := workbench.Config{
		Workload: "lin-kv", NodeIDs: workbench.NodeIDs(2), Concurrency: 8, TimeLimit: 10 * time.Second,
		Rate: 50, Latency: 5 * time.Millisecond, Seed: 21,
	}
	cfg.Node = workbench.InProcess(kvProxy("lin-kv"))
	res := workbenchtest.Run(t, cfg)
	if res.Valid != checker.Valid {
		t.Fatalf("lin-kv through the lin-kv service: %v", workbenchtest.Get(t, res, "workload"))
	}
	reads := 0
	for _, op := range res.History {
		if op.F == "read" && op.Type == history.OK {
			reads++
		}
	}
	if reads < 50 {
		t.Errorf("only %d ok reads", reads)
	}
	cfg.Node = workbench.InProcess(kvProxy("lww-kv"))
	if res := workbenchtest.Run(t, cfg); res.Valid != checker.Invalid {
		t.Fatalf("lin-kv through lww-kv judged %v, want invalid", res.Valid)
	}
}

func TestLinKVNeedsConcurrencyMultiple(t *testing.T) {
	_, err := workbench.Run(context.Background(), workbench.Config{
		Workload: "lin-kv", Node: workbench.InProcess(kvProxy("lin-kv")), NodeIDs: workbench.NodeIDs(2), Concurrency: 3,
		TimeLimit: time.Second, Log: io.Discard,
	})
	var ue *workbench.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "2n") {
		t.Fatalf("err = %v, want a usage error suggesting --concurrency 2n", err)
	}
}

// A node that stalls makes the schedule slip; it must not catch up in a
// burst afterwards (Jepsen's stagger counts from when an op was issued).
func TestScheduleSlipsWithoutBurst(t *testing.T) {
	stalling := func(n *node.Node) {
		var mu sync.Mutex
		count := 0
		n.Handle("echo", func(msg node.Message) error {
			mu.Lock()
			count++
			c := count
			mu.Unlock()
			if c == 2 {
				time.Sleep(3 * time.Second)
			}
			var b map[string]any
			msg.Unmarshal(&b)
			return n.Reply(msg, map[string]any{"type": "echo_ok", "echo": b["echo"]})
		})
	}
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: workbench.InProcess(stalling), NodeIDs: workbench.NodeIDs(1), Concurrency: 1,
		TimeLimit: 6 * time.Second, Rate: 10, Seed: 2,
	})
	invokes := 0
	perInstant := map[int64]int{}
	for _, op := range res.History {
		if op.Type == history.Invoke {
			invokes++
			perInstant[op.Time]++
		}
	}
	// 6 s at 10/s is 60 ops with no stall; the 3 s stall loses about 30.
	if invokes > 45 {
		t.Errorf("%d invocations: the schedule caught up after the stall", invokes)
	}
	for at, n := range perInstant {
		if n > 1 {
			t.Errorf("%d operations invoked at the same instant %d ns", n, at)
		}
	}
}

// --log-stderr copies node stderr into the log; --log-net-send and
// --log-net-recv log every message as it passes.
func TestLogFlags(t *testing.T) {
	var log bytes.Buffer
	workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: workbench.InProcess(echo.Register), NodeIDs: workbench.NodeIDs(1),
		TimeLimit: time.Second, Rate: 5, Seed: 3, Log: &log,
		LogStderr: true, LogNetSend: true, LogNetRecv: true,
	})
	out := log.String()
	for _, want := range []string{
		"n0 stderr: ",
		`:send {"id":0,"src":"c0","dest":"n0","body":`,
		`:recv {"id":0,"src":"c0","dest":"n0","body":`,
		`"type":"echo_ok"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	var quiet bytes.Buffer
	workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: workbench.InProcess(echo.Register), NodeIDs: workbench.NodeIDs(1),
		TimeLimit: time.Second, Rate: 5, Seed: 3, Log: &quiet,
	})
	if strings.Contains(quiet.String(), ":send {") || strings.Contains(quiet.String(), "stderr: ") {
		t.Errorf("messages or stderr logged without the flags")
	}
}
