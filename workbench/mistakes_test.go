package workbench_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/results"
)

// Tests of the mistakes learners make most, which the bench must name
// for what they are rather than as timeouts or misleading crashes.

// replier answers init and echo line by line; initReply and echoReply
// build the reply bodies from the request's msg_id and body, and after
// runs once init_ok is printed (its error, if any, ends the node).
func replier(initReply, echoReply func(id int64, body map[string]any) map[string]any, after func() error) func(io.Reader, io.Writer, io.Writer) error {
	return func(stdin io.Reader, stdout, stderr io.Writer) error {
		sc := bufio.NewScanner(stdin)
		self := ""
		for sc.Scan() {
			var m struct {
				Src  string         `json:"src"`
				Dest string         `json:"dest"`
				Body map[string]any `json:"body"`
			}
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			id, _ := m.Body["msg_id"].(float64)
			var reply map[string]any
			switch m.Body["type"] {
			case "init":
				self = m.Dest
				reply = initReply(int64(id), m.Body)
			case "echo":
				reply = echoReply(int64(id), m.Body)
			}
			if reply == nil {
				continue
			}
			line, _ := json.Marshal(map[string]any{"src": self, "dest": m.Src, "body": reply})
			fmt.Fprintf(stdout, "%s\n", line)
			if m.Body["type"] == "init" && after != nil {
				if err := after(); err != nil {
					return err
				}
			}
		}
		return sc.Err()
	}
}

func goodInit(id int64, _ map[string]any) map[string]any {
	return map[string]any{"type": "init_ok", "in_reply_to": id}
}

func goodEcho(id int64, b map[string]any) map[string]any {
	return map[string]any{"type": "echo_ok", "echo": b["echo"], "in_reply_to": id}
}

// junkEcho answers init well and every echo with a line that is not
// JSON.
func junkEcho() func(io.Reader, io.Writer, io.Writer) error {
	return func(stdin io.Reader, stdout, stderr io.Writer) error {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			var m struct {
				Src, Dest string
				Body      map[string]any
			}
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			if m.Body["type"] == "init" {
				line, _ := json.Marshal(map[string]any{"src": m.Dest, "dest": m.Src, "body": goodInit(int64(m.Body["msg_id"].(float64)), m.Body)})
				fmt.Fprintf(stdout, "%s\n", line)
				continue
			}
			fmt.Fprintln(stdout, "echo? sure: here it is")
		}
		return sc.Err()
	}
}

// forgetfulEcho answers init well and every echo without in_reply_to.
func forgetfulEcho() func(io.Reader, io.Writer, io.Writer) error {
	return replier(goodInit, func(_ int64, b map[string]any) map[string]any {
		return map[string]any{"type": "echo_ok", "echo": b["echo"]}
	}, nil)
}

// An init_ok without in_reply_to is reported as that, not as a node that
// "did not respond".
func TestInitReplyWithoutInReplyTo(t *testing.T) {
	node := replier(func(int64, map[string]any) map[string]any { return map[string]any{"type": "init_ok"} }, goodEcho, nil)
	var err error
	synctest.Test(t, func(t *testing.T) {
		_, err = workbench.Run(context.Background(), workbench.Config{
			Workload: "echo", Node: node, NodeIDs: workbench.NodeIDs(1), TimeLimit: time.Second, Log: io.Discard,
		})
	})
	if err == nil || !strings.Contains(err.Error(), "in_reply_to") || !strings.Contains(err.Error(), "n0") ||
		strings.Contains(err.Error(), "did not respond") {
		t.Fatalf("err = %v, want one naming n0 and the missing in_reply_to", err)
	}
}

// Echo replies without in_reply_to: the run is invalid through timeouts,
// as in Maelstrom, and the log and the :glomers section name the node,
// the count and the first such message; a well-made node has no entry.
func TestRepliesWithoutInReplyToAreNamed(t *testing.T) {
	for _, c := range []struct {
		name string
		node func(io.Reader, io.Writer, io.Writer) error
		want bool
	}{{"forgetful", forgetfulEcho(), true}, {"well-made", replier(goodInit, goodEcho, nil), false}} {
		t.Run(c.name, func(t *testing.T) {
			var log bytes.Buffer
			var res *workbench.Result
			synctest.Test(t, func(t *testing.T) {
				var err error
				res, err = workbench.Run(context.Background(), workbench.Config{
					Workload: "echo", Node: c.node, NodeIDs: workbench.NodeIDs(2), TimeLimit: 3 * time.Second, Rate: 5, Log: &log,
				})
				if err != nil {
					t.Fatal(err)
				}
			})
			strays, found := res.Results.Path("glomers", "replies-without-in-reply-to")
			if !c.want {
				if found || strings.Contains(log.String(), "without an integer in_reply_to") {
					t.Fatalf("a well-made node is reported: %v", strays)
				}
				return
			}
			if res.Valid != checker.Invalid {
				t.Errorf("verdict %v, want invalid (every echo timed out)", res.Valid)
			}
			m, ok := strays.(edn.Map)
			if !ok || len(m) == 0 {
				t.Fatalf("no :replies-without-in-reply-to in :glomers: %v", strays)
			}
			n0, _ := m.Get("n0")
			entry, _ := n0.(edn.Map)
			count, _ := entry.Get(edn.Keyword("count"))
			first, _ := entry.Get(edn.Keyword("first"))
			if n, _ := count.(int); n == 0 || !strings.Contains(fmt.Sprint(first), "echo_ok") {
				t.Errorf("n0: count %v, first %v; want a count and the echo_ok", count, first)
			}
			if !strings.Contains(log.String(), "node n0 sent a client a message without an integer in_reply_to") {
				t.Errorf("the log does not name the mistake")
			}
		})
	}
}

// A node that crashes right after init_ok is reported once, and not as a
// crash "during init" (the exit may be seen before the init_ok is
// delivered, so the run may still end at init, as "right after").
func TestCrashRightAfterInitIsReportedOnce(t *testing.T) {
	node := replier(goodInit, goodEcho, func() error {
		return fmt.Errorf("pretend the node died after init")
	})
	var log bytes.Buffer
	var err error
	synctest.Test(t, func(t *testing.T) {
		_, err = workbench.Run(context.Background(), workbench.Config{
			Workload: "echo", Node: node, NodeIDs: workbench.NodeIDs(1), TimeLimit: 2 * time.Second, Rate: 5, Log: &log,
		})
	})
	if err == nil || !strings.Contains(err.Error(), "pretend the node died") {
		t.Fatalf("err = %v, want the crash", err)
	}
	if strings.Contains(err.Error(), "during init") {
		t.Errorf("a crash after init_ok is called a crash during init: %v", err)
	}
	if k := strings.Count(log.String(), "Node n0 crashed with"); k != 1 {
		t.Errorf("the crash report is in the log %d times, want once:\n%s", k, log.String())
	}
}

// storedEchoRun runs a 2 s echo test of node on nodes nodes in virtual
// time, storing it under a temporary root; it returns the result, the
// log and the root.
func storedEchoRun(t *testing.T, node func(io.Reader, io.Writer, io.Writer) error, nodes int) (*workbench.Result, string, string) {
	t.Helper()
	var log bytes.Buffer
	root := t.TempDir()
	var res *workbench.Result
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = workbench.Run(context.Background(), workbench.Config{
			Workload: "echo", Node: node, NodeIDs: workbench.NodeIDs(nodes), TimeLimit: 2 * time.Second, Rate: 5,
			Log: &log, StoreRoot: root,
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	return res, log.String(), root
}

// Every run ends by saying where its files are and how to browse them;
// an invalid one also names the sections that failed it.
func TestRunEndsWithWhereToLook(t *testing.T) {
	for _, c := range []struct {
		name    string
		node    func(io.Reader, io.Writer, io.Writer) error
		failing string
	}{{"valid", replier(goodInit, goodEcho, nil), ""}, {"invalid", forgetfulEcho(), "Failing: :stats"}} {
		t.Run(c.name, func(t *testing.T) {
			res, out, root := storedEchoRun(t, c.node, 1)
			if c.failing == "" && strings.Contains(out, "Failing:") {
				t.Errorf("a valid run names failing sections:\n%s", tail(out, 500))
			}
			if c.failing != "" && !strings.Contains(out, c.failing) {
				t.Errorf("no %q line:\n%s", c.failing, tail(out, 500))
			}
			rel := strings.TrimPrefix(res.Dir, root+"/")
			want := "glomers serve --store " + root + " and open http://127.0.0.1:8080/files/" + rel + "/"
			if !strings.Contains(out, want) {
				t.Errorf("the log does not end with how to browse the run (%q):\n%s", want, tail(out, 500))
			}
		})
	}
}

// An invalid run ends with why, in at most a few lines, and leaves the
// whole explanation in explain.json; a valid run has neither.
func TestInvalidRunIsExplained(t *testing.T) {
	for _, c := range []struct {
		name string
		node func(io.Reader, io.Writer, io.Writer) error
		want []string // kinds of finding expected
	}{
		{"valid", replier(goodInit, goodEcho, nil), nil},
		{"forgetful", forgetfulEcho(), []string{"no-ok", "replies-without-in-reply-to"}},
		{"junk", junkEcho(), []string{"no-ok", "protocol-error"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, out, _ := storedEchoRun(t, c.node, 2)
			stored, err := os.ReadFile(filepath.Join(res.Dir, results.ExplainFile))
			if c.want == nil {
				if res.Explanation != nil || strings.Contains(out, "Why:") || err == nil {
					t.Fatalf("a valid run is explained: %v", res.Explanation)
				}
				return
			}
			if err != nil {
				t.Fatalf("no %s: %v", results.ExplainFile, err)
			}
			x, err := results.ParseExplanation(stored)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, f := range x.Findings {
				kinds = append(kinds, f.Kind)
			}
			for _, k := range c.want {
				if !slices.Contains(kinds, k) {
					t.Errorf("findings %q lack %q", kinds, k)
				}
			}
			_, why, ok := strings.Cut(out, "Why:\n")
			if !ok {
				t.Fatalf("no Why: block:\n%s", tail(out, 800))
			}
			block, _, _ := strings.Cut(why, "This run's files")
			if lines := strings.Count(strings.TrimSpace(block), "\n") + 1; lines > 10 || !strings.Contains(block, "n0") || strings.Contains(block, "--strict") {
				t.Errorf("the Why: block has %d lines (at most 10) and must name the node and the cause, as counting:\n%s", lines, block)
			}
			t.Logf("Why:\n%s", block)
			if len(res.Summary.Reasons) != len(c.want) {
				t.Errorf("reasons %q, want one per finding of %q: each is a cause of the failure", res.Summary.Reasons, c.want)
			}
		})
	}
}
