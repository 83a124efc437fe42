package workbench_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/solutions/echo"
	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/internal/faulty"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// A reply of valid JSON nested 9,990 levels deep is a protocol error
// named in the results, found before it is parsed; the run ends normally
// and writes a complete store.
func TestDeeplyNestedReplyIsAProtocolError(t *testing.T) {
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: faulty.Hostile()["deep-echo"], NodeIDs: workbench.NodeIDs(1),
		TimeLimit: 3 * time.Second, Rate: 5, Seed: 1, StoreRoot: t.TempDir(), Log: io.Discard,
	})
	bad := workbenchtest.Get(t, res, "glomers", "protocol-errors").(edn.Map)
	if len(bad) != 1 || !strings.Contains(bad[0].Val.(string), "nested more than 100 levels deep") {
		t.Fatalf(":protocol-errors %v, want n0's reply named as too deeply nested", bad)
	}
	if len(bad[0].Val.(string)) > 1000 {
		t.Errorf("the protocol error quotes %d bytes of the line", len(bad[0].Val.(string)))
	}
	if res.Valid == checker.Valid {
		t.Errorf("a node whose replies are all refused passed")
	}
	for _, f := range []string{"results.edn", "results.json", "history.edn", "index.html", "messages.svg"} {
		if fi, err := os.Stat(filepath.Join(res.Dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("store lacks %s: %v", f, err)
		}
	}
}

// The unfinished last line of a node the bench stopped at the end of the
// run is not held against it, even with --strict.
func TestLineCutByTheBenchIsNotAProtocolError(t *testing.T) {
	cut := func(stdin io.Reader, stdout, stderr io.Writer) error {
		buf := make([]byte, 4096)
		n, _ := stdin.Read(buf) // init, small enough to come in one read
		if !strings.Contains(string(buf[:n]), `"type":"init"`) {
			return nil
		}
		io.WriteString(stdout, `{"src":"n0","dest":"c0","body":{"type":"init_ok","in_reply_to":1}}`+"\n")
		io.WriteString(stdout, `{"src":"n0","dest":"c0","bo`) // and then the bench stops it
		_, err := io.Copy(io.Discard, stdin)
		return err
	}
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: cut, NodeIDs: workbench.NodeIDs(1), TimeLimit: 2 * time.Second, Rate: 5, Seed: 1, Strict: true,
	})
	if bad := workbenchtest.Get(t, res, "glomers", "protocol-errors").(edn.Map); len(bad) != 0 {
		t.Errorf(":protocol-errors %v, want none: the bench cut that line", bad)
	}
}

// A node's control characters reach the terminal escaped: in the stderr
// lines --log-stderr copies, and in the crash report and error of a node
// that dies.
func TestNodeTextReachesTheTerminalEscaped(t *testing.T) {
	const title = "\x1b]0;PWNED\a"
	noisy := func(stdin io.Reader, stdout, stderr io.Writer) error {
		io.WriteString(stderr, "hello "+title+"\n")
		return workbench.InProcess(echo.Register)(stdin, stdout, stderr)
	}
	var log bytes.Buffer
	workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: noisy, NodeIDs: workbench.NodeIDs(1), TimeLimit: time.Second, Rate: 5, LogStderr: true, Log: &log,
	})
	if strings.ContainsAny(log.String(), "\x1b\a") || !strings.Contains(log.String(), `n0 stderr: hello \x1b]0;PWNED\x07`) {
		t.Errorf("log with --log-stderr: %q", tail(log.String(), 500))
	}

	dying := func(stdin io.Reader, stdout, stderr io.Writer) error {
		io.WriteString(stdout, "not json "+title+"\n")
		io.WriteString(stderr, "bye "+title+"\n")
		return errors.New("exit status 2")
	}
	log.Reset()
	var err error
	synctest.Test(t, func(t *testing.T) {
		_, err = workbench.Run(context.Background(), workbench.Config{
			Workload: "echo", Node: dying, NodeIDs: workbench.NodeIDs(1), TimeLimit: time.Second, Log: &log,
		})
	})
	if err == nil || strings.ContainsAny(err.Error()+log.String(), "\x1b\a") {
		t.Errorf("err %q\nlog %q", err, tail(log.String(), 800))
	}
}
