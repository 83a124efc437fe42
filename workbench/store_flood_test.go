package workbench_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/report"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// flooder is an in-process echo node that, on its first echo, also
// sends count messages of size bytes each to n1 (which ignores them),
// and samples the heap as it goes.
type flooder struct {
	count, size int

	mu   sync.Mutex
	done bool
	base uint64
	peak uint64
}

func (f *flooder) sample() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.peak = max(f.peak, ms.HeapInuse)
	return ms.HeapInuse
}

func (f *flooder) node(stdin io.Reader, stdout, _ io.Writer) error {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(nil, 1<<20)
	w := bufio.NewWriter(stdout)
	send := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		w.Write(append(b, '\n'))
		return w.Flush()
	}
	for sc.Scan() {
		var in struct {
			Src, Dest string
			Body      struct {
				Type   string          `json:"type"`
				MsgID  int64           `json:"msg_id"`
				Echo   json.RawMessage `json:"echo"`
				NodeID string          `json:"node_id"`
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			return err
		}
		reply := map[string]any{"in_reply_to": in.Body.MsgID}
		switch in.Body.Type {
		case "init":
			reply["type"] = "init_ok"
		case "echo":
			reply["type"], reply["echo"] = "echo_ok", in.Body.Echo
		default:
			continue
		}
		if err := send(map[string]any{"src": in.Dest, "dest": in.Src, "body": reply}); err != nil {
			return err
		}
		f.mu.Lock()
		flood := in.Body.Type == "echo" && in.Dest == "n0" && !f.done
		f.done = f.done || flood
		f.mu.Unlock()
		if !flood {
			continue
		}
		f.mu.Lock()
		f.base = f.peak
		f.mu.Unlock()
		pad := strings.Repeat("x", f.size)
		for i := range f.count {
			if err := send(map[string]any{"src": "n0", "dest": "n1", "body": map[string]any{"type": "flood", "i": i, "pad": pad}}); err != nil {
				return err
			}
			if i%500 == 0 {
				f.sample()
			}
			if i%100 == 0 {
				// Let the bench take the lines in (virtual time passes
				// only once it has): how the bench reads a node's output
				// is not what this test measures.
				time.Sleep(time.Millisecond)
			}
		}
	}
	return sc.Err()
}

// TestFloodingNodeStoreStaysBounded runs echo with a node that floods
// its neighbour with 6,000 messages of 16 KB (96 MB, journalled twice:
// sent and delivered) and checks that the bench's heap does not grow
// with the flood (it keeps no message once journalled), that the :net
// figures count every message, and that the store holds every file
// while staying within a few MB.
func TestFloodingNodeStoreStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 96 MB through the network")
	}
	f := &flooder{count: 6000, size: 16 << 10}
	f.sample()
	store := t.TempDir()
	res := workbenchtest.Run(t, workbench.Config{
		Workload: "echo", Node: f.node, NodeIDs: workbench.NodeIDs(2),
		TimeLimit: 3 * time.Second, Rate: 5, Seed: 7, StoreRoot: store,
	})
	if res.Valid != checker.Valid {
		t.Errorf("the run is %v", res.Valid)
	}
	if got := workbenchtest.Get(t, res, "net", "servers", "msg-count"); got != f.count {
		t.Errorf(":net :servers :msg-count %v, want %d", got, f.count)
	}
	f.mu.Lock()
	grown := f.peak - min(f.peak, f.base)
	t.Logf("heap in use: %d MB before the flood, %d MB at its peak", f.base>>20, f.peak>>20)
	f.mu.Unlock()
	if !f.done || grown > 48<<20 {
		t.Errorf("the heap grew by %d MB during a 96 MB flood (flood sent: %v)", grown>>20, f.done)
	}
	if res.Journal != nil {
		t.Errorf("a stored run kept %d journal events in memory", len(res.Journal))
	}
	for _, name := range []string{"results.edn", "results.json", "history.edn", "history.txt", "jepsen.log", "test.json",
		"messages.svg", report.MessagesIndexFile, report.JournalFile, "timeline.html", "index.html", "latency-raw.png"} {
		if info, err := os.Stat(filepath.Join(res.Dir, name)); err != nil || info.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(res.Dir, "node-logs", "n0.log")); err != nil {
		t.Error(err)
	}
	size, err := report.DirSize(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("store: %d KB", size>>10)
	if size > 8<<20 {
		t.Errorf("the run stored %d MB", size>>20)
	}
	svg, err := os.ReadFile(filepath.Join(res.Dir, "messages.svg"))
	if err != nil || len(svg) > 4<<20 {
		t.Errorf("messages.svg: %d bytes, %v", len(svg), err)
	}
	if entries, _ := filepath.Glob(filepath.Join(res.Dir, "messages-*.svg")); len(entries) != 0 {
		t.Errorf("diagram windows written as files: %v", entries)
	}
}
