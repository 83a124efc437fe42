package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// HandlerFunc handles one incoming message. Returning an error makes the
// node answer the request with an error reply (see [Node.Handle]).
type HandlerFunc func(msg Message) error

// Option configures a Node built by [New].
type Option func(*Node)

// WithLogOutput sends the node's log lines to w instead of os.Stderr.
// The node never writes anything but messages to the output given to
// [Node.Run].
func WithLogOutput(w io.Writer) Option {
	return func(n *Node) { n.log = log.New(w, "", log.LstdFlags|log.Lmicroseconds) }
}

// Node is one Maelstrom node: it reads messages from its input, runs the
// handler registered for each message's type, and writes the messages its
// handlers send to its output. Build one with [New], register handlers
// with [Node.Handle], then call [Main] (or [Node.Run] in tests).
//
// All methods are safe for concurrent use.
type Node struct {
	log *log.Logger

	ident atomic.Pointer[identity] // set by init; nil before

	hmu      sync.RWMutex
	handlers map[string]HandlerFunc
	inline   map[string]bool // types whose handlers run on the input loop

	// The init gate: requests that arrive before the node knows its id, or
	// while an init message is being handled, wait in queued.
	gmu           sync.Mutex
	ready         bool
	initsInFlight int
	queued        []inbound

	// inited is the identity set by the first init whose handler
	// succeeded; once it is set, later inits no longer run the handler
	// (see handleInit). Inits are handled one at a time, in arrival
	// order: each waits for lastInit, closed when the one before it is
	// done, so only one handleInit touches inited at a time.
	lastInit chan struct{}
	inited   *identity

	nextMsgID atomic.Int64

	// Callbacks of RPCs awaiting a reply, by msg_id; see rpc.go.
	pmu     sync.Mutex
	pending map[int]pendingReply
	closed  bool // input ended: no reply can arrive any more

	// Output: one line per Write, never interleaved.
	wmu  sync.Mutex
	out  io.Writer // nil unless Run is running
	werr error     // first write error; every later write fails with it
	bufs sync.Pool // of *[]byte line buffers

	running  atomic.Bool
	handling sync.WaitGroup // handlers and callbacks in flight
	bg       sync.WaitGroup // goroutines started by Go

	// Handler goroutines are reused: a task goes to an idle worker when
	// one waits on tasks, else to a new worker. Reuse matters because a
	// fresh goroutine must grow its stack for encoding/json every time.
	tasks   chan func()   // unbuffered: a send succeeds only if a worker is idle
	quit    chan struct{} // closed when Run ends: idle workers exit
	idle    atomic.Int32
	workers sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// identity is what init tells a node about itself.
type identity struct {
	id  string
	ids []string
}

// inbound is a decoded input message waiting to be dispatched.
type inbound struct {
	msg Message
	hdr header
}

// maxIdleWorkers bounds the handler goroutines kept waiting for work.
const maxIdleWorkers = 64

// New returns a node with no handlers, logging to os.Stderr unless an
// option says otherwise.
func New(opts ...Option) *Node {
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		handlers: make(map[string]HandlerFunc),
		inline:   make(map[string]bool),
		pending:  make(map[int]pendingReply),
		tasks:    make(chan func()),
		quit:     make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
	}
	WithLogOutput(os.Stderr)(n)
	for _, o := range opts {
		o(n)
	}
	return n
}

// Logf writes one log line (to os.Stderr by default, see
// [WithLogOutput]). Never print to stdout in a node: it carries messages.
func (n *Node) Logf(format string, args ...any) {
	n.log.Printf(format, args...)
}

// ID returns the node's own id, such as "n1", or "" before init.
func (n *Node) ID() string {
	if id := n.ident.Load(); id != nil {
		return id.id
	}
	return ""
}

// NodeIDs returns the ids of every node in the test, this one included,
// in the same order on every node, or nil before init. The slice is a
// copy the caller may keep and modify.
func (n *Node) NodeIDs() []string {
	if id := n.ident.Load(); id != nil {
		return slices.Clone(id.ids)
	}
	return nil
}

// Init sets the node's id and the ids of all nodes, as the init message
// does, without running the "init" handler or replying. Tests use it to
// skip the handshake; requests queued while waiting for init are
// dispatched.
func (n *Node) Init(id string, ids []string) {
	n.ident.Store(&identity{id: id, ids: slices.Clone(ids)})
	n.gmu.Lock()
	defer n.gmu.Unlock()
	if n.initsInFlight == 0 {
		n.openGateLocked()
	}
}

// Handle registers h for messages whose body type is typ. It panics if
// typ already has a handler or h is nil.
//
// Each message runs its handler in a goroutine of its own, so handlers run
// concurrently with each other and may block (for example in [Node.Call]).
// When a handler returns an error the node replies with it: a
// [*RPCError] anywhere in the error's chain is sent as is, any other error
// becomes code [Crash] (13) with the error's text, and a panic is logged
// with its stack and also answered with [Crash].
//
// Replies go only to requests: when the message carried no msg_id, the
// sender asked for no answer, so neither error replies nor [Node.Reply]
// send anything (the error is logged instead). Replies to our own RPCs
// never reach handlers; they go to the RPC's callback.
//
// The type "init" is special: the node handles init itself, storing the
// ids for [Node.ID] and [Node.NodeIDs], then runs the "init" handler if
// one is registered, then replies init_ok (or the handler's error). The
// init handler must not reply itself. Requests that arrive before init,
// or while the init handler runs, are held back and dispatched once it
// returns, so handlers always see an initialised node; replies to RPCs are
// delivered at any time, so the init handler may call other nodes or
// services.
//
// The init handler runs until it first succeeds, never after: a later
// init naming the same node_id and node_ids is answered init_ok again,
// and one naming others is refused with [PreconditionFailed], the node
// keeping its identity. So an init handler may start background work
// without guarding against a repeated init. (Inits are handled one at a
// time, in arrival order; [Node.Init] does not count as a successful
// init.) A malformed init that arrives before the node has an id is
// answered from the id it was addressed to.
//
// A message whose type has no handler is answered with [NotSupported]
// (10) and logged; the node keeps running.
func (n *Node) Handle(typ string, h HandlerFunc) {
	n.register(typ, h, false)
}

// register stores a handler and whether it runs inline, in one step.
func (n *Node) register(typ string, h HandlerFunc, inline bool) {
	if h == nil {
		panic("node: Handle " + typ + ": nil handler")
	}
	n.hmu.Lock()
	defer n.hmu.Unlock()
	if _, dup := n.handlers[typ]; dup {
		panic("node: Handle: a handler for " + typ + " is already registered")
	}
	n.handlers[typ] = h
	if inline {
		n.inline[typ] = true
	}
}

// HandleInline registers h for messages of type typ, like [Node.Handle],
// except that h runs on the node's input loop: messages of this type are
// handled one at a time, in arrival order, and every message that arrives
// after one of them is dispatched only once its handler has returned.
//
// Use it for messages that update state quickly, such as gossip batches,
// when a later request must see their effect: with [Node.Handle] a read
// delivered right behind a batch may run before the batch's handler. The
// price is that the node reads no input while h runs, so h must not
// block: it must not wait for replies ([Node.Call]) nor sleep, and it
// should be short. It may send ([Node.Send], [Node.Reply], [Node.RPC]).
func (n *Node) HandleInline(typ string, h HandlerFunc) {
	n.register(typ, h, true)
}

// handler returns the handler registered for typ, or nil.
func (n *Node) handler(typ string) HandlerFunc {
	n.hmu.RLock()
	defer n.hmu.RUnlock()
	return n.handlers[typ]
}

// Go runs fn in a goroutine of its own, for background work such as a
// gossip ticker. fn's ctx is [Node.Context]: it is cancelled when the
// input ends, and [Node.Run] waits for fn to return before it returns, so
// fn must watch ctx. A panic in fn is not recovered.
//
// Go may be called before Run (for instance while registering handlers)
// or from handlers. If it is called after Run returned, fn gets an
// already cancelled ctx and nobody waits for it.
func (n *Node) Go(fn func(ctx context.Context)) {
	n.bg.Go(func() { fn(n.ctx) })
}

// Every runs fn every interval in the background, from one interval
// after the call until the node stops, like a goroutine started with
// [Node.Go]: fn gets the node's context, and Run waits for a run of fn in
// progress. Runs never overlap: a run longer than the interval delays
// the next, and of the ticks it spans one waits and the rest are dropped,
// as with a time.Ticker. A periodic flush, heartbeat or sync is one line:
//
//	n.Every(25*time.Millisecond, func(ctx context.Context) { s.flush(ctx) })
func (n *Node) Every(interval time.Duration, fn func(ctx context.Context)) {
	n.Go(func(ctx context.Context) {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx)
			}
		}
	})
}

// Context returns a context that is cancelled when the node's input
// ends, after in-flight handlers have finished. Derive the contexts of
// background calls from it.
func (n *Node) Context() context.Context { return n.ctx }

// Run reads messages, one JSON object per line, from r and writes the
// node's messages to w, one JSON object per line with a single Write per
// line (followed by Flush when w has a Flush() error method). It returns
// when r is exhausted, once everything the node started has stopped:
//
//  1. the input ends: [Node.Call]s still waiting for a reply fail with
//     [ErrClosed] and callbacks of [Node.RPC]s are dropped, because no
//     reply can arrive any more;
//  2. Run waits for in-flight handlers and callbacks;
//  3. it cancels [Node.Context] and waits for the goroutines started with
//     [Node.Go];
//  4. it detaches w: later sends fail, so nothing is written to w after
//     Run returns.
//
// Lines may be of any length. Unknown top-level keys (the bench adds
// "id") are ignored. A line that is not a message (bad JSON, missing src
// or dest, a body that is not an object, a msg_id that is not an integer)
// is logged and skipped. Run returns nil at the end of the input, or a
// wrapped error after a read error or a write error; w must keep
// accepting writes until Run returns.
//
// Run may be called only once per node.
func (n *Node) Run(r io.Reader, w io.Writer) error {
	if !n.running.CompareAndSwap(false, true) {
		return errors.New("node: Run called more than once")
	}
	n.wmu.Lock()
	n.out = w
	n.wmu.Unlock()

	var rerr error
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		n.receive(line)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				rerr = fmt.Errorf("node: read input: %w", err)
			}
			break
		}
	}
	n.shutdown()

	n.wmu.Lock()
	werr := n.werr
	n.out = nil
	n.wmu.Unlock()
	return errors.Join(rerr, werr)
}

// readLine returns the next line, with its newline, however long it is.
// Lines that fit the reader's buffer are returned without copying and are
// only valid until the next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	long := slices.Clone(line)
	for errors.Is(err, bufio.ErrBufferFull) {
		line, err = br.ReadSlice('\n')
		long = append(long, line...)
	}
	return long, err
}

// receive decodes one input line and routes it: replies to their
// callbacks, init to the init logic, other requests to handlers (or to
// the init queue). It never writes output itself, so a slow reader of the
// node's output cannot stop the node from reading input.
func (n *Node) receive(line []byte) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	msg, hdr, err := decodeLine(line)
	if err != nil {
		n.Logf("node: skipping malformed input line: %v: %s", err, truncate(bytes.TrimSpace(line), 500))
		return
	}
	in := inbound{msg: msg, hdr: hdr}
	switch {
	case hdr.InReplyTo.ok:
		n.deliverReply(in)
	case hdr.Type.v == "init":
		n.gmu.Lock()
		n.initsInFlight++
		n.ready = false
		prev, done := n.lastInit, make(chan struct{})
		n.lastInit = done
		n.gmu.Unlock()
		n.spawn(func() {
			defer close(done)
			if prev != nil {
				<-prev // inits are handled one at a time, in arrival order
			}
			n.handleInit(in)
		})
	default:
		n.gmu.Lock()
		defer n.gmu.Unlock()
		if !n.ready {
			n.queued = append(n.queued, in)
			return
		}
		n.dispatchLocked(in)
	}
}

// dispatchLocked starts the handler for a request. The caller holds gmu
// (which keeps queued requests ahead of later ones).
func (n *Node) dispatchLocked(in inbound) {
	h := n.handler(in.hdr.Type.v)
	switch {
	case !in.hdr.Type.ok:
		h = func(Message) error {
			return NewRPCError(MalformedRequest, `message body has no "type"`)
		}
	case h == nil:
		h = func(m Message) error {
			n.Logf("node: no handler for message type %q from %s: %s", in.hdr.Type.v, m.Src, truncate(m.Body, 500))
			return Errorf(NotSupported, "message type %q is not supported", in.hdr.Type.v)
		}
	}
	run := func() {
		if err := n.invoke(h, in.msg); err != nil {
			n.replyError(in, err)
		}
	}
	n.hmu.RLock()
	inline := n.inline[in.hdr.Type.v]
	n.hmu.RUnlock()
	if inline {
		n.handling.Add(1)
		defer n.handling.Done()
		run()
		return
	}
	n.spawn(run)
}

// spawn runs task in a goroutine of its own, reusing an idle worker if
// there is one, so tasks never wait for each other. Run waits for every
// task before returning.
func (n *Node) spawn(task func()) {
	n.handling.Add(1)
	t := func() {
		defer n.handling.Done()
		task()
	}
	select {
	case n.tasks <- t:
	default:
		n.workers.Go(func() { n.work(t) })
		// Let the new worker run now: when the input never blocks (one
		// core, a full pipe) the reader would otherwise keep starting
		// fresh goroutines, none of which gets to finish and go idle.
		runtime.Gosched()
	}
}

// work runs task, then further tasks, until there are too many idle
// workers or Run ends.
func (n *Node) work(task func()) {
	for {
		task()
		if n.idle.Add(1) > maxIdleWorkers {
			n.idle.Add(-1)
			return
		}
		select {
		case task = <-n.tasks:
			n.idle.Add(-1)
		case <-n.quit:
			n.idle.Add(-1)
			return
		}
	}
}

// openGateLocked marks the node ready and dispatches the requests that
// waited for init. The caller holds gmu.
func (n *Node) openGateLocked() {
	n.ready = true
	for _, in := range n.queued {
		n.dispatchLocked(in)
	}
	n.queued = nil
}

// handleInit stores the ids from an init message, runs the user's init
// handler and replies.
func (n *Node) handleInit(in inbound) {
	defer func() {
		n.gmu.Lock()
		defer n.gmu.Unlock()
		n.initsInFlight--
		if n.initsInFlight == 0 && n.ident.Load() != nil {
			n.openGateLocked()
		}
	}()
	var body InitBody
	if err := in.msg.Unmarshal(&body); err != nil || body.NodeID == "" {
		if err == nil {
			err = errors.New(`init without "node_id"`)
		}
		n.Logf("node: bad init message from %s: %v", in.msg.Src, err)
		n.replyError(in, NewRPCError(MalformedRequest, err.Error()))
		return
	}
	if done := n.inited; done != nil {
		if body.NodeID != done.id || !slices.Equal(body.NodeIDs, done.ids) {
			n.Logf("node: refusing init as %s of %v from %s: already initialized as %s of %v",
				body.NodeID, body.NodeIDs, in.msg.Src, done.id, done.ids)
			n.replyError(in, Errorf(PreconditionFailed, "already initialized as %s of %v", done.id, done.ids))
			return
		}
		n.Logf("node: repeated init from %s: answering init_ok without running the init handler again", in.msg.Src)
	} else {
		id := &identity{id: body.NodeID, ids: slices.Clone(body.NodeIDs)}
		n.ident.Store(id)
		n.Logf("node: initialized as %s of %v", body.NodeID, body.NodeIDs)
		if h := n.handler("init"); h != nil {
			if err := n.invoke(h, in.msg); err != nil {
				n.replyError(in, err)
				return
			}
		}
		n.inited = id
	}
	if err := n.Reply(in.msg, Body{Type: "init_ok"}); err != nil {
		n.Logf("node: reply init_ok: %v", err)
	}
}

// invoke calls h, turning a panic into an error after logging its stack.
func (n *Node) invoke(h HandlerFunc, msg Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			n.Logf("node: panic handling %s from %s: %v\n%s", msg.Type(), msg.Src, r, debug.Stack())
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return h(msg)
}

// replyError answers a request whose handler failed; see Handle.
func (n *Node) replyError(in inbound, err error) {
	var rpcErr *RPCError
	if !errors.As(err, &rpcErr) {
		n.Logf("node: handler for %s from %s failed: %v", in.hdr.Type.v, in.msg.Src, err)
		rpcErr = NewRPCError(Crash, err.Error())
	}
	if !in.hdr.MsgID.ok {
		n.Logf("node: not replying %v to %s from %s: the request has no msg_id", rpcErr, in.hdr.Type.v, in.msg.Src)
		return
	}
	src := n.ID()
	if src == "" {
		// Only a malformed init fails before the node has an id: answer
		// in the name the sender addressed, the only one there is.
		src = in.msg.Dest
	}
	if werr := n.reply(src, in.msg.Src, in.hdr.MsgID.v, rpcErr); werr != nil {
		n.Logf("node: reply to %s from %s: %v", in.hdr.Type.v, in.msg.Src, werr)
	}
}

// shutdown runs when the input has ended; see Run.
func (n *Node) shutdown() {
	n.failPending()
	n.handling.Wait()
	close(n.quit)
	n.workers.Wait()
	n.gmu.Lock()
	if len(n.queued) > 0 {
		n.Logf("node: dropping %d messages that arrived before a valid init", len(n.queued))
	}
	n.queued = nil
	n.gmu.Unlock()
	n.cancel()
	n.bg.Wait()
}

// Main runs n on os.Stdin and os.Stdout, which is what a node binary
// does. If Run fails it logs the error and exits with status 1.
func Main(n *Node) {
	if err := n.Run(os.Stdin, os.Stdout); err != nil {
		n.Logf("node: %v", err)
		os.Exit(1)
	}
}
