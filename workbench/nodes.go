package workbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/process"
	"github.com/glomers/glomers/workbench/service"
)

// This file holds the node side of a run: the services, each node's
// process and init handshake, the checks on what nodes print, and the
// teardown.

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

// strayReply records a message from a node to a client that no client
// can take as a reply, having no integer in_reply_to (the usual slip: a
// reply built without copying the request's msg_id). The first from each
// node is logged; the count and that example go into the results.
func (r *run) strayReply(src string, body json.RawMessage) {
	nc := r.nodes[src]
	if nc == nil {
		return
	}
	nc.mu.Lock()
	nc.strays++
	first := nc.strays == 1
	if first {
		nc.stray = printable(body, 256)
	}
	nc.mu.Unlock()
	if first {
		r.log.Warnf("node %s sent a client a message without an integer in_reply_to, so no client can take it as a reply (a reply copies the request's msg_id into in_reply_to): %s", src, printable(body, 256))
	}
}

// answeredInit reports whether the node printed an init_ok for the
// current life's init.
func (nc *nodeConn) answeredInit() bool {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return nc.answered
}

// noteInitOK marks that the node printed an init_ok to the client of its
// current init.
func (nc *nodeConn) noteInitOK(dest string, body json.RawMessage) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if dest != nc.initBy || nc.answered {
		return
	}
	var probe struct {
		Type string `json:"type"`
	}
	nc.answered = json.Unmarshal(body, &probe) == nil && probe.Type == "init_ok"
}

// firstStray returns the first message nc sent a client without an
// integer in_reply_to, or "".
func (nc *nodeConn) firstStray() string {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return nc.stray
}

// current returns the current life's process (nil before the first).
func (nc *nodeConn) current() *process.Node {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return nc.proc
}

// startServices registers lin-kv, seq-kv, lww-kv and lin-tso before any
// node starts, each answering one request at a time in delivery order.
func (r *run) startServices(ctx context.Context) error {
	for i, name := range service.Names() {
		svc, err := service.New(name, rand.New(rand.NewPCG(r.cfg.Seed, uint64(0x737663+i))))
		if err != nil {
			return err
		}
		ep, err := r.net.Register(name)
		if err != nil {
			return err
		}
		r.bg.Add(1)
		go func() {
			defer r.bg.Done()
			service.Serve(ctx, r.net, ep, svc, r.nodeWarnf)
		}()
	}
	return nil
}

// nodeWarnf logs a warning that quotes what a node sent: shortened and
// with its control characters escaped, as all node text on the terminal.
func (r *run) nodeWarnf(format string, args ...any) {
	r.log.Warnf("%s", printable(fmt.Sprintf(format, args...), 2048))
}

// startNodes launches every node in parallel and performs the init
// handshake with each, then runs the workload's setup.
func (r *run) startNodes(ctx context.Context) error {
	for _, id := range r.cfg.NodeIDs {
		ep, err := r.net.Register(id)
		if err != nil {
			return err
		}
		r.nodes[id] = &nodeConn{id: id, ep: ep, broke: make(chan struct{})}
	}
	errs := make([]error, len(r.cfg.NodeIDs))
	var wg sync.WaitGroup
	for i, id := range r.cfg.NodeIDs {
		client, err := r.newClient() // allocated in node order, so ids are repeatable
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.startNode(ctx, r.nodes[id], client)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.log.Infof("All %d nodes initialised", len(r.cfg.NodeIDs))
	return nil
}

// startNode opens the node's log, starts carrying messages from the
// network to it, and starts its first life.
func (r *run) startNode(ctx context.Context, nc *nodeConn, initClient *netsim.Client) error {
	logw := io.WriteCloser(nopCloser{io.Discard})
	if r.store != nil {
		w, err := r.store.NodeLog(nc.id)
		if err != nil {
			return fmt.Errorf("node %s: open log: %w", nc.id, err)
		}
		logw = w
	}
	// One cap for all the node's lives: a node that floods stderr cannot
	// fill the disk, and is still never blocked on it.
	nc.logw = process.NewLogCap(logw, process.MaxLogBytes)
	nc.life = 1
	r.bg.Add(1)
	go func() { // network → stdin, for every life
		defer r.bg.Done()
		r.deliver(ctx, nc)
	}()
	return r.startLife(ctx, nc, initClient)
}

// deliver hands the messages the network delivers for nc to its current
// process. While the node is down (killed, or restarted but not yet
// through init) they are dropped, as a dead process's queue is lost, and
// not journalled as received; only the restart's init passes. A message
// a process no longer takes (it died, or was killed while it waited) is
// lost too.
func (r *run) deliver(ctx context.Context, nc *nodeConn) {
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
func (r *run) startLife(ctx context.Context, nc *nodeConn, initClient *netsim.Client) error {
	defer initClient.Close()
	nc.mu.Lock()
	nc.initBy, nc.answered = initClient.ID(), false
	nc.mu.Unlock()
	var onLine func(string)
	if r.cfg.LogStderr {
		onLine = func(line string) { r.log.Infof("%s stderr: %s", nc.id, line) }
	}
	spec := process.Spec{Bin: r.cfg.Bin, Args: r.cfg.Args, Env: r.cfg.Env, Func: r.cfg.Node}
	proc, err := process.Start(nc.id, spec, nc.logw, onLine)
	if err != nil {
		return fmt.Errorf("node %s: %w", nc.id, err)
	}
	nc.mu.Lock()
	nc.proc = proc
	nc.mu.Unlock()

	r.bg.Add(2)
	go func() { // stdout → network
		defer r.bg.Done()
		if err := proc.Lines(func(line []byte, bad error) { r.fromNode(nc, line, bad) }); err != nil {
			r.log.Warnf("%v", err)
		}
	}()
	go func() { // notice a node that ends on its own
		defer r.bg.Done()
		select {
		case <-proc.Exited():
		case <-ctx.Done():
			return
		}
		if crashed, _ := proc.Crashed(); crashed {
			r.log.Errorf("%s", proc.CrashReport())
			r.crash(errors.New(proc.CrashSummary()))
		}
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
	body := map[string]any{"type": "init", "node_id": nc.id, "node_ids": r.cfg.NodeIDs}
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

// fromNode takes one line the node printed and sends it on, after the
// checks Maelstrom makes. After the first line that breaks the protocol
// (not JSON, wrong envelope, unknown destination) Maelstrom stops reading
// that node's stdout for the rest of the test; so do we, faithfully, and
// say so in the log. A line the process package refused as too long (bad)
// and JSON nested deeper than maxJSONDepth break the protocol the same
// way: they are this bench's limits, where Maelstrom's JSON parser has
// its own. Messages to clients that were already closed are dropped with
// a warning instead (Maelstrom would also stop reading).
func (r *run) fromNode(nc *nodeConn, line []byte, bad error) {
	if nc.protocolError() != nil {
		return
	}
	if bad != nil {
		nc.breakProtocol(bad, "")
		r.log.Errorf("Error! node %s %v. Ignoring everything it prints from now on, as Maelstrom does after a malformed line.", nc.id, bad)
		return
	}
	src, dest, body, err := parseEnvelope(line)
	if err == nil && !r.net.Known(src) {
		err = fmt.Errorf("invalid source for message: %q is not a node, client or service of this test", src)
	}
	if err == nil {
		nc.noteInitOK(dest, body)
		_, err = r.net.Send(src, dest, body)
		if errors.Is(err, netsim.ErrClosedDest) {
			nc.mu.Lock()
			nc.dropped++
			nc.mu.Unlock()
			r.log.Warnf("node %s sent a message to %s, a client that has already closed; dropped: %s", nc.id, printable(dest, 64), printable(line, 512))
			return
		}
	}
	if err != nil {
		shown := printable(line, 512)
		nc.breakProtocol(err, shown)
		r.log.Errorf("Error! node %s: %v; the line was: %s. Ignoring everything it prints from now on, as Maelstrom does.", nc.id, err, shown)
	}
}

// breakProtocol records the first line of nc that broke the protocol.
func (nc *nodeConn) breakProtocol(err error, line string) {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if nc.badLine != nil {
		return
	}
	if line != "" {
		err = fmt.Errorf("%w; the line was: %s", err, line)
	}
	nc.badLine = err
	close(nc.broke)
}

func (nc *nodeConn) protocolError() error {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return nc.badLine
}

// parseEnvelope checks one stdout line: a JSON object with string src and
// dest, a body, an optional integer id and nothing else.
func parseEnvelope(line []byte) (src, dest string, body json.RawMessage, err error) {
	if d := jsonDepth(line, maxJSONDepth); d > maxJSONDepth {
		return "", "", nil, fmt.Errorf("printed a line to STDOUT with JSON nested more than %d levels deep, deeper than this bench accepts", maxJSONDepth)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(line, &env); err != nil || env == nil {
		return "", "", nil, fmt.Errorf("printed a line to STDOUT which was not well-formed JSON")
	}
	for k := range env {
		switch k {
		case "src", "dest", "body", "id":
		default:
			return "", "", nil, fmt.Errorf("malformed network message: unexpected top-level key %q (allowed: src, dest, body, id)", k)
		}
	}
	if json.Unmarshal(env["src"], &src) != nil || src == "" {
		return "", "", nil, errors.New("malformed network message: src must be a string")
	}
	if json.Unmarshal(env["dest"], &dest) != nil || dest == "" {
		return "", "", nil, errors.New("malformed network message: dest must be a string")
	}
	body, ok := env["body"]
	if !ok {
		return "", "", nil, errors.New("malformed network message: missing body")
	}
	if id, ok := env["id"]; ok {
		if _, ok := netsim.IntLiteral(id); !ok {
			return "", "", nil, errors.New("malformed network message: id must be an integer")
		}
	}
	return src, dest, body, nil
}

// printable shortens a node's text to n bytes (saying how long it was)
// and escapes its control characters, for the log and the terminal.
func printable[T ~string | ~[]byte](b T, n int) string {
	if len(b) <= n {
		return process.Printable(string(b))
	}
	return fmt.Sprintf("%s… (%d bytes)", process.Printable(string(b[:n])), len(b))
}

// maxJSONDepth is how deeply a node's message may nest arrays and
// objects. Maelstrom's bodies nest a few levels (a transaction is a list
// of lists); 100 leaves room for any message of one's own design, while
// a hostile reply nested ten thousand levels deep, which would cost the
// checkers and the store's writers dearly, is refused before it is parsed.
const maxJSONDepth = 100

// jsonDepth returns how deeply the JSON text b nests arrays and objects,
// or a number above limit as soon as it goes deeper. It only counts
// brackets outside strings; whether b is valid JSON is json.Unmarshal's
// business.
func jsonDepth(b []byte, limit int) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > limit {
					return deepest
				}
			}
		case ']', '}':
			depth--
		}
	}
	return deepest
}

func (r *run) crash(err error) {
	r.crashOnce.Do(func() {
		r.crashErr = err
		close(r.crashed)
	})
}

func (r *run) crashError() error {
	select {
	case <-r.crashed:
		return r.crashErr
	default:
		return nil
	}
}

// teardown reports a node that ended on its own, then stops every node
// and waits for the bench's own goroutines.
func (r *run) teardown() error {
	var crashed []string
	for _, id := range r.cfg.NodeIDs {
		nc := r.nodes[id]
		if nc == nil || nc.current() == nil {
			continue
		}
		if ok, _ := nc.current().Crashed(); ok {
			crashed = append(crashed, nc.current().CrashSummary())
		}
	}
	var wg sync.WaitGroup
	for _, nc := range r.nodes {
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
				r.log.Warnf("%v", err)
			}
		}()
	}
	wg.Wait()
	r.bg.Wait()
	for _, nc := range r.nodes {
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

// killNode ends nc's current process (SIGKILL for an OS process; an
// in-process node's pipes are closed, so it loses everything it held and
// can send nothing more) and waits, up to stopTimeout, for it to end (an
// in-process node's handlers still running must return). From now until
// its restart is through init, messages to it are dropped. It returns the
// killed process's pid (0 in-process).
func (r *run) killNode(nc *nodeConn) int {
	nc.mu.Lock()
	nc.down = true
	proc := nc.proc
	nc.mu.Unlock()
	if proc == nil {
		return 0
	}
	if err := proc.Stop(stopTimeout); err != nil {
		r.log.Warnf("%v", err)
	}
	return proc.Pid()
}

// restartNode starts a fresh process of the same binary with the same
// arguments (or a fresh call of the in-process Func) for a killed node,
// marks in the node's log where the new life starts, and redoes the init
// handshake; the node is up again once it answers. It returns how many
// messages were dropped while the node was down. A node that fails to
// come back ends the test, as a crash does.
func (r *run) restartNode(ctx context.Context, nc *nodeConn) (lost int, err error) {
	client, err := r.newClient()
	if err != nil {
		return 0, err
	}
	nc.mu.Lock()
	nc.life++
	life := nc.life
	nc.initSrc = client.ID()
	nc.mu.Unlock()
	fmt.Fprintf(nc.logw, "\n=== glomers: life %d of node %s starts here: the kill nemesis restarted it with empty memory ===\n", life, nc.id)
	if err := r.startLife(ctx, nc, client); err != nil {
		if ctx.Err() == nil {
			r.crash(fmt.Errorf("restart of a killed node: %w", err))
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
