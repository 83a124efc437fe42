package workbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/process"
	"github.com/glomers/glomers/workbench/report"
	"github.com/glomers/glomers/workbench/service"
)

// Timeouts Maelstrom uses around nodes.
const (
	initTimeout = 10 * time.Second // init → init_ok
	stopTimeout = 5 * time.Second  // kill → exit
)

// cluster is the node side of a run: the services, each node's process
// and init handshake, the clients that talk to the nodes, and the
// teardown. Under the kill nemesis a node has several lives, one process
// each (startLife, kill, restart). What the nodes print is checked in
// protocol.go.
type cluster struct {
	ids       []string     // the node ids, in node-list order
	spec      process.Spec // what each node's process runs
	logStderr bool         // copy node stderr lines into the test log
	net       *netsim.Network
	log       *logger
	store     *report.Store // where the node logs go; nil: nowhere

	nodes     map[string]*nodeConn
	clientMu  sync.Mutex
	clientSeq int

	crashOnce sync.Once
	crashed   chan struct{} // closed when the first node ends on its own
	crashErr  error

	bg sync.WaitGroup // goroutines that must end before teardown returns
}

func newCluster(cfg *Config, net *netsim.Network, log *logger, store *report.Store) *cluster {
	return &cluster{ids: cfg.NodeIDs, spec: cfg.processSpec(), logStderr: cfg.LogStderr, net: net, log: log,
		store: store, nodes: map[string]*nodeConn{}, crashed: make(chan struct{})}
}

// newClient opens the next client c0, c1, ... (ids are never reused).
func (c *cluster) newClient() (*netsim.Client, error) {
	c.clientMu.Lock()
	id := fmt.Sprintf("c%d", c.clientSeq)
	c.clientSeq++
	c.clientMu.Unlock()
	cl, err := c.net.NewClient(id)
	if err != nil {
		return nil, err
	}
	cl.OnStray = c.strayReply
	return cl, nil
}

// nodeConn joins a node's process to its network endpoint. Under the kill
// nemesis a node has several lives, one process each; the endpoint, the
// log and the protocol checks belong to the node and outlive them.
type nodeConn struct {
	id   string
	ep   *netsim.Endpoint
	logw io.WriteCloser

	broke chan struct{} // closed when badLine is set

	mu      sync.Mutex
	proc    *process.Node // the current life's process
	life    int           // 1 for the first process, one more per restart
	down    bool          // killed, and not yet through init again
	initSrc string        // while down: the client whose init may pass
	lost    int           // messages dropped while down, since the last restart
	badLine error         // first stdout line that broke the protocol; later output is ignored
	dropped int           // messages to clients that were already closed
	strays  int           // messages to clients without an integer in_reply_to
	stray   string        // the first of them, shortened for display
	// initBy is the client of the current life's init; answered says
	// the node sent it an init_ok (seen on its stdout, delivered or not).
	initBy   string
	answered bool
}

// answeredInit reports whether the node printed an init_ok for the
// current life's init.
func (nc *nodeConn) answeredInit() bool {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return nc.answered
}

// firstStray returns the first message nc sent a client without an
// integer in_reply_to, or "".
func (nc *nodeConn) firstStray() string {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return nc.stray
}

// proc returns the current process of node id (nil before its first).
func (c *cluster) proc(id string) *process.Node { return c.nodes[id].current() }

// current returns the current life's process (nil before the first).
func (nc *nodeConn) current() *process.Node {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return nc.proc
}

// startServices registers lin-kv, seq-kv, lww-kv and lin-tso before any
// node starts, each answering one request at a time in delivery order.
func (c *cluster) startServices(ctx context.Context, seed uint64) error {
	for i, name := range service.Names() {
		svc, err := service.New(name, rand.New(rand.NewPCG(seed, uint64(seedServices+i))))
		if err != nil {
			return err
		}
		ep, err := c.net.Register(name)
		if err != nil {
			return err
		}
		c.bg.Add(1)
		go func() {
			defer c.bg.Done()
			service.Serve(ctx, c.net, ep, svc, c.nodeWarnf)
		}()
	}
	return nil
}

// nodeWarnf logs a warning that quotes what a node sent: shortened and
// with its control characters escaped, as all node text on the terminal.
func (c *cluster) nodeWarnf(format string, args ...any) {
	c.log.Warnf("%s", printable(fmt.Sprintf(format, args...), 2048))
}

// startNodes launches every node in parallel and performs the init
// handshake with each, then runs the workload's setup.
func (c *cluster) startNodes(ctx context.Context) error {
	for _, id := range c.ids {
		ep, err := c.net.Register(id)
		if err != nil {
			return err
		}
		c.nodes[id] = &nodeConn{id: id, ep: ep, broke: make(chan struct{})}
	}
	errs := make([]error, len(c.ids))
	var wg sync.WaitGroup
	for i, id := range c.ids {
		client, err := c.newClient() // allocated in node order, so ids are repeatable
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.startNode(ctx, c.nodes[id], client)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	c.log.Infof("All %d nodes initialised", len(c.ids))
	return nil
}

// startNode opens the node's log, starts carrying messages from the
// network to it, and starts its first life.
func (c *cluster) startNode(ctx context.Context, nc *nodeConn, initClient *netsim.Client) error {
	logw := io.WriteCloser(nopCloser{io.Discard})
	if c.store != nil {
		w, err := c.store.NodeLog(nc.id)
		if err != nil {
			return fmt.Errorf("node %s: open log: %w", nc.id, err)
		}
		logw = w
	}
	// One cap for all the node's lives: a node that floods stderr cannot
	// fill the disk, and is still never blocked on it.
	nc.logw = process.NewLogCap(logw, process.MaxLogBytes)
	nc.life = 1
	c.bg.Add(1)
	go func() { // network → stdin, for every life
		defer c.bg.Done()
		c.deliver(ctx, nc)
	}()
	return c.startLife(ctx, nc, initClient)
}

// deliver hands the messages the network delivers for nc to its current
// process. While the node is down (killed, or restarted but not yet
// through init) they are dropped, as a dead process's queue is lost, and
// not journalled as received; only the restart's init passes. A message
// a process no longer takes (it died, or was killed while it waited) is
// lost too.
func (c *cluster) deliver(ctx context.Context, nc *nodeConn) {
	var buf []byte
	var proc *process.Node // the life that takes the message up accepted
	up := func(m *netsim.Message) bool {
		nc.mu.Lock()
		defer nc.mu.Unlock()
		if nc.down && m.Src != nc.initSrc {
			nc.lost++
			return false
		}
		proc = nc.proc
		return true
	}
	for {
		m, err := nc.ep.RecvIf(ctx, up)
		if err != nil {
			return
		}
		if proc == nil {
			continue
		}
		buf = append(m.AppendJSON(buf[:0]), '\n')
		_, _ = proc.Write(buf)
	}
}

// startLife launches a process for nc and performs the init handshake
// with it through initClient, which it closes.
func (c *cluster) startLife(ctx context.Context, nc *nodeConn, initClient *netsim.Client) error {
	defer initClient.Close()
	nc.mu.Lock()
	nc.initBy, nc.answered = initClient.ID(), false
	nc.mu.Unlock()
	var onLine func(string)
	if c.logStderr {
		onLine = func(line string) { c.log.Infof("%s stderr: %s", nc.id, line) }
	}
	proc, err := process.Start(nc.id, c.spec, nc.logw, onLine)
	if err != nil {
		return fmt.Errorf("node %s: %w", nc.id, err)
	}
	nc.mu.Lock()
	nc.proc = proc
	nc.mu.Unlock()

	c.bg.Add(2)
	go func() { // stdout → network
		defer c.bg.Done()
		if err := proc.Lines(func(line []byte, bad error) { c.fromNode(nc, line, bad) }); err != nil {
			c.log.Warnf("%v", err)
		}
	}()
	go func() { // notice a node that ends on its own
		defer c.bg.Done()
		c.reportCrash(ctx, proc)
	}()

	initCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-proc.Exited():
			cancel()
		case <-nc.broke: // it will never be heard from again
			cancel()
		case <-initCtx.Done():
		}
	}()
	body := map[string]any{"type": "init", "node_id": nc.id, "node_ids": c.ids}
	reply, err := initClient.Call(initCtx, nc.id, body, initTimeout)
	if bad := nc.protocolError(); bad != nil {
		return fmt.Errorf("node %s broke the protocol during init: %w", nc.id, bad)
	}
	if err != nil {
		// The goroutine above logs the crash report; here it is named
		// once more only in the run's error, for what it was: a crash
		// during init, or one right after the node answered it (the
		// init_ok may not have been delivered when the exit was seen).
		if crashed, _ := proc.Crashed(); crashed {
			proc.WaitDrained() // what it printed before dying, init_ok perhaps
			if nc.answeredInit() {
				return fmt.Errorf("%s right after answering init", proc.CrashSummary())
			}
			return fmt.Errorf("%s during init", proc.CrashSummary())
		}
		if stray := nc.firstStray(); stray != "" {
			return fmt.Errorf("node %s answered init without an integer in_reply_to, so the answer is no reply (copy the request's msg_id into in_reply_to): %s", nc.id, stray)
		}
		if errors.Is(err, netsim.ErrTimeout) {
			return fmt.Errorf("expected node %s to respond to an init message, but node did not respond within %v", nc.id, initTimeout)
		}
		return fmt.Errorf("init of node %s: %w", nc.id, err)
	}
	if reply.Type() != "init_ok" {
		return fmt.Errorf("expected an init_ok message, but node %s responded with %s", nc.id, printable(reply.Raw, 512))
	}
	return nil
}

// crash ends the test for err, the first node that ended on its own (or
// failed to come back): the phases stop early.
func (c *cluster) crash(err error) {
	c.crashOnce.Do(func() {
		c.crashErr = err
		close(c.crashed)
	})
}

// crashError returns the error of the crash that ends the test, or nil.
func (c *cluster) crashError() error {
	select {
	case <-c.crashed:
		return c.crashErr
	default:
		return nil
	}
}

// reportCrash waits for proc to end and, if it ended on its own, logs
// its crash report and ends the run; it returns when ctx is done first.
func (c *cluster) reportCrash(ctx context.Context, proc *process.Node) {
	select {
	case <-proc.Exited():
	case <-ctx.Done():
		// The run may be ending because of this very exit (a crash
		// during or right after init aborts the run), and select
		// picks at random between two ready cases: report an exit
		// that came first all the same.
		select {
		case <-proc.Exited():
		default:
			return
		}
	}
	if crashed, _ := proc.Crashed(); crashed {
		c.log.Errorf("%s", proc.CrashReport())
		c.crash(errors.New(proc.CrashSummary()))
	}
}

// teardown reports a node that ended on its own, then stops every node
// and waits for the bench's own goroutines.
func (c *cluster) teardown() error {
	var crashed []string
	for _, id := range c.ids {
		nc := c.nodes[id]
		if nc == nil || nc.current() == nil {
			continue
		}
		if ok, _ := nc.current().Crashed(); ok {
			crashed = append(crashed, nc.current().CrashSummary())
		}
	}
	var wg sync.WaitGroup
	for _, nc := range c.nodes {
		proc := nc.current()
		if proc == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A paused node is stopped as it is: Stop kills a stopped
			// process and releases what waits on a paused one.
			if err := proc.Stop(stopTimeout); err != nil {
				c.log.Warnf("%v", err)
			}
		}()
	}
	wg.Wait()
	c.bg.Wait()
	for _, nc := range c.nodes {
		if nc.logw != nil {
			_ = nc.logw.Close()
		}
	}
	if len(crashed) > 0 {
		return errors.New(strings.Join(crashed, "; "))
	}
	return nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// killNode ends node id's current process (SIGKILL for an OS process; an
// in-process node's pipes are closed, so it loses everything it held and
// can send nothing more) and waits, up to stopTimeout, for it to end (an
// in-process node's handlers still running must return). From now until
// its restart is through init, messages to it are dropped. It returns the
// killed process's pid (0 in-process).
func (c *cluster) killNode(id string) int {
	nc := c.nodes[id]
	nc.mu.Lock()
	nc.down = true
	proc := nc.proc
	nc.mu.Unlock()
	if proc == nil {
		return 0
	}
	if err := proc.Stop(stopTimeout); err != nil {
		c.log.Warnf("%v", err)
	}
	return proc.Pid()
}

// restartNode starts a fresh process of the same binary with the same
// arguments (or a fresh call of the in-process Func) for a killed node,
// marks in the node's log where the new life starts, and redoes the init
// handshake; the node is up again once it answers. It returns how many
// messages were dropped while the node was down. A node that fails to
// come back ends the test, as a crash does.
func (c *cluster) restartNode(ctx context.Context, id string) (lost int, err error) {
	nc := c.nodes[id]
	client, err := c.newClient()
	if err != nil {
		return 0, err
	}
	nc.mu.Lock()
	nc.life++
	life := nc.life
	nc.initSrc = client.ID()
	nc.mu.Unlock()
	fmt.Fprintf(nc.logw, "\n=== glomers: life %d of node %s starts here: the kill nemesis restarted it with empty memory ===\n", life, nc.id)
	if err := c.startLife(ctx, nc, client); err != nil {
		if ctx.Err() == nil {
			c.crash(fmt.Errorf("restart of a killed node: %w", err))
		}
		return 0, err
	}
	nc.mu.Lock()
	nc.down = false
	nc.initSrc = ""
	lost, nc.lost = nc.lost, 0
	nc.mu.Unlock()
	return lost, nil
}
