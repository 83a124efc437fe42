package listappend

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glomers/glomers/node"
)

// retryPause is how long the transactor waits before retrying after a
// lin-kv request failed for a reason other than a lost cas race, and
// between polls for a value not yet stored.
const retryPause = 5 * time.Millisecond

// Register makes n a txn-list-append transactor with the default
// Options.
func Register(n *node.Node) { RegisterWith(n, Options{}) }

// RegisterWith is Register with explicit Options.
func RegisterWith(n *node.Node, opts Options) {
	opts = opts.withDefaults()
	kv := node.NewLinKV(n)
	latest := new(atomic.Pointer[root])
	lane := func() *server {
		return &server{n: n, kv: kv, opts: opts, latest: latest,
			cache: map[int64]segment{}, written: map[int64]bool{}, colds: map[coldRef]map[int64]int64{}}
	}
	// Two lanes: read-only transactions never wait behind a cas.
	reads, writes := lane(), lane()
	n.Handle("txn", func(msg node.Message) error {
		req, err := decodeRequest(msg)
		if err != nil {
			return err
		}
		if req.writes {
			writes.submit(req)
		} else {
			reads.submit(req)
		}
		return nil
	})
}

// server is one lane of a node's transactor: a queue of transactions
// and the loop that commits them in batches. A node has two, one for
// transactions that append and one for those that only read, which
// share nothing but the newest root either has seen.
type server struct {
	n      *node.Node
	kv     *node.KV
	opts   Options
	latest *atomic.Pointer[root] // newest root this node knows, shared by its lanes; roots are immutable

	mu         sync.Mutex
	queue      []*request // arrived, not yet taken into a batch
	committing bool       // a handler is running the commit loop

	// Owned by the handler running the commit loop (one at a time; mu
	// hands them over).
	root    *root                       // newest root known, nil when unknown
	cache   map[int64]segment           // segments by commit seq: immutable, so never stale
	written map[int64]bool              // segments known to be stored in lin-kv
	colds   map[coldRef]map[int64]int64 // cold maps: immutable too
	lastT   int64                       // the last cold map timestamp this lane used
	rtt     time.Duration               // moving average of a cas's round trip
}

// request is one txn request waiting for its batch to commit.
type request struct {
	msg      node.Message
	mops     []mop
	writes   bool
	arrived  time.Time
	deadline time.Time
}

// mop is one micro-operation: a read of k, or an append of v to k.
type mop struct {
	append bool
	k, v   int64
}

// decodeRequest reads a txn request: [["r", k, null] | ["append", k, v], …]
// with integer keys and values.
func decodeRequest(msg node.Message) (*request, error) {
	var body struct {
		Txn []json.RawMessage `json:"txn"`
	}
	if err := msg.Unmarshal(&body); err != nil {
		return nil, node.NewRPCError(node.MalformedRequest, err.Error())
	}
	req := &request{msg: msg, mops: make([]mop, len(body.Txn))}
	for i, raw := range body.Txn {
		var m []json.RawMessage
		var f string
		if err := json.Unmarshal(raw, &m); err != nil || len(m) != 3 || json.Unmarshal(m[0], &f) != nil {
			return nil, node.Errorf(node.MalformedRequest, "micro-operation %s is not [f k v]", raw)
		}
		if err := json.Unmarshal(m[1], &req.mops[i].k); err != nil {
			return nil, node.Errorf(node.MalformedRequest, "micro-operation %s: the key is not an integer", raw)
		}
		switch f {
		case "r":
		case "append":
			if err := json.Unmarshal(m[2], &req.mops[i].v); err != nil {
				return nil, node.Errorf(node.MalformedRequest, "micro-operation %s: the value is not an integer", raw)
			}
			req.mops[i].append = true
			req.writes = true
		default:
			return nil, node.Errorf(node.MalformedRequest, "micro-operation %s: f is neither r nor append", raw)
		}
	}
	return req, nil
}

// submit queues the request; the first handler that finds no commit
// loop running runs it until the queue is empty. Replies are sent by the
// commit loop, so handlers return without replying.
func (s *server) submit(req *request) {
	req.arrived = time.Now()
	req.deadline = req.arrived.Add(s.opts.GiveUpAfter)
	s.mu.Lock()
	s.queue = append(s.queue, req)
	if s.committing {
		s.mu.Unlock()
		return
	}
	s.committing = true
	s.mu.Unlock()
	for {
		batch := s.take(true)
		if len(batch) == 0 {
			return
		}
		s.run(batch)
	}
}

// take empties the queue. With last set, an empty queue ends the commit
// loop (under the same lock, so no request is left behind).
func (s *server) take(last bool) []*request {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	if len(q) == 0 && last {
		s.committing = false
	}
	return q
}

// run commits a batch of transactions, retrying on lost cas races (with
// requests that arrived meanwhile joining in) until each is answered.
func (s *server) run(pending []*request) {
	ctx := s.n.Context()
	mustRead := false // the root this lane knows is stale, and so may the shared one be
	for len(pending) > 0 {
		pending = s.dropExpired(pending)
		if len(pending) == 0 {
			return
		}
		writes := false
		oldest := pending[0].arrived
		for _, r := range pending {
			writes = writes || r.writes
			if r.arrived.Before(oldest) {
				oldest = r.arrived
			}
		}
		if d := s.yield(time.Since(oldest)); writes && d > 0 {
			time.Sleep(d)
			pending = append(pending, s.take(false)...)
		}
		// A batch that only reads needs a root that is current at some
		// moment after every one of its transactions arrived: it reads
		// one. A batch that writes may start from the root it believes
		// current: its cas checks that belief.
		if l := s.latest.Load(); l != nil && !mustRead && (s.root == nil || l.seq > s.root.seq) {
			s.learn(l) // the other lane saw a newer root
		}
		mustRead = false
		base := s.root
		if !writes || base == nil {
			r, err := s.readRoot(ctx)
			if err != nil {
				if s.closed(err, pending) {
					return
				}
				time.Sleep(retryPause)
				continue
			}
			s.learn(r)
			base = r
		}
		results, next, err := s.execute(ctx, base, pending)
		if err != nil {
			if s.closed(err, pending) {
				return
			}
			s.root = nil // maybe a root whose segments cannot be had: start afresh
			time.Sleep(retryPause)
			continue
		}
		if next == nil {
			s.replyOK(pending, results)
			s.prune()
			return
		}
		err = s.commit(ctx, base, next)
		switch {
		case err == nil:
			s.learn(next)
			s.replyOK(pending, results)
			s.prune()
			return
		case node.IsPreconditionFailed(err):
			// Another node committed first. The error names the current
			// root; run again on it, with whatever arrived meanwhile.
			s.root, mustRead = nil, true
			var rpc *node.RPCError
			if errors.As(err, &rpc) {
				if cur, perr := rootFromCASFailure(rpc.Text); perr == nil {
					s.learn(cur)
					mustRead = false
				}
			}
			pending = append(pending, s.take(false)...)
		default:
			if s.closed(err, pending) {
				return
			}
			// The cas may or may not have happened: writers get an
			// indefinite error, readers run again.
			s.root = nil
			var again []*request
			for _, r := range pending {
				if r.writes {
					s.reply(r.msg, node.Errorf(node.Crash, "commit outcome unknown: %v", err))
				} else {
					again = append(again, r)
				}
			}
			pending = again
		}
	}
}

// yield is how long a batch that writes, whose oldest transaction is
// age old, waits before racing for the root. Nodes race by sending a
// cas, and lin-kv takes the first to arrive: a node whose requests
// happen to leave a little earlier in each round (its clients' phase)
// would win round after round while the others' transactions wait for
// seconds, and the winner cannot tell, since it never sees the others'
// failures. So every node holds a fresh batch back for a quarter of a
// cas round trip, less the older its oldest transaction is, and not at
// all once that has waited two round trips: old transactions reach
// lin-kv first. A single node never waits, and with lin-kv at no
// distance nobody does.
func (s *server) yield(age time.Duration) time.Duration {
	if len(s.n.NodeIDs()) < 2 {
		return 0
	}
	window := 2 * s.rtt
	if age >= window {
		return 0
	}
	return (window - age) / 8
}

// dropExpired refuses the requests whose time is up with txn-conflict:
// they are not part of any cas whose outcome is unknown (those were
// answered already), so they certainly never committed.
func (s *server) dropExpired(reqs []*request) []*request {
	now := time.Now()
	out := reqs[:0]
	for _, r := range reqs {
		if now.After(r.deadline) {
			s.reply(r.msg, node.Errorf(node.TxnConflict, "could not commit within %v", s.opts.GiveUpAfter))
			continue
		}
		out = append(out, r)
	}
	return out
}

// closed reports whether err means the node's input has ended; if so it
// answers reqs (the answers go nowhere, but the loop must end).
func (s *server) closed(err error, reqs []*request) bool {
	if !errors.Is(err, node.ErrClosed) && s.n.Context().Err() == nil {
		return false
	}
	for _, r := range reqs {
		s.reply(r.msg, node.Errorf(node.Crash, "shutting down: %v", err))
	}
	for _, r := range s.take(false) {
		s.reply(r.msg, node.Errorf(node.Crash, "shutting down: %v", err))
	}
	return true
}

func (s *server) reply(req node.Message, body any) {
	if err := s.n.Reply(req, body); err != nil {
		s.n.Logf("listappend: reply: %v", err)
	}
}

func (s *server) replyOK(reqs []*request, results [][]any) {
	for i, r := range reqs {
		s.reply(r.msg, map[string]any{"type": "txn_ok", "txn": results[i]})
	}
}

// learn makes r the root we believe current and caches its segments.
func (s *server) learn(r *root) {
	s.root = r
	for {
		l := s.latest.Load()
		if (l != nil && l.seq >= r.seq) || s.latest.CompareAndSwap(l, r) {
			break
		}
	}
	for _, seg := range r.recent {
		s.cache[seg.seq] = seg
	}
	if r.newCold != nil {
		s.colds[r.cold] = r.newCold
	}
}

// prune forgets cached segments that the current root no longer points
// to (no later root will again), once there are many of them.
func (s *server) prune() {
	if s.root == nil || len(s.cache) < 2*len(s.root.ptr)+64 {
		return
	}
	live := map[int64]bool{}
	for _, seq := range s.root.ptr {
		live[seq] = true
	}
	for seq := range s.cache {
		if !live[seq] {
			delete(s.cache, seq)
			delete(s.written, seq)
		}
	}
	for ref := range s.colds {
		if ref != s.root.cold {
			delete(s.colds, ref)
		}
	}
}

// readRoot reads the current root (the empty root when there is none).
func (s *server) readRoot(ctx context.Context) (*root, error) {
	cctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	defer cancel()
	var raw json.RawMessage
	if err := s.kv.ReadInto(cctx, rootKey, &raw); err != nil {
		if node.IsKeyDoesNotExist(err) {
			return emptyRoot(), nil
		}
		return nil, fmt.Errorf("read root: %w", err)
	}
	return decodeRootJSON(raw)
}

// execute runs reqs, in order, on the state r describes and returns each
// one's completed micro-operations and, if any appended, the root that
// commits them all (nil otherwise).
func (s *server) execute(ctx context.Context, r *root, reqs []*request) ([][]any, *root, error) {
	if err := s.fetch(ctx, r, reqs); err != nil {
		return nil, nil, err
	}
	committed := func(k int64) []int64 {
		seq, ok := s.pointer(r, k)
		if !ok {
			return nil
		}
		if seg, ok := r.inline(seq); ok {
			return seg.lists[k]
		}
		return s.cache[seq].lists[k]
	}
	changed := map[int64][]int64{}
	results := make([][]any, len(reqs))
	for i, req := range reqs {
		out := make([]any, len(req.mops))
		for j, m := range req.mops {
			cur, ok := changed[m.k]
			if !ok {
				cur = committed(m.k)
			}
			if m.append {
				// Lists are shared, never modified: copy before growing.
				l := make([]int64, len(cur)+1)
				copy(l, cur)
				l[len(cur)] = m.v
				changed[m.k] = l
				out[j] = []any{"append", m.k, m.v}
				continue
			}
			if cur == nil {
				out[j] = []any{"r", m.k, nil}
			} else {
				out[j] = []any{"r", m.k, cur}
			}
		}
		results[i] = out
	}
	if len(changed) == 0 {
		return results, nil, nil
	}
	next := &root{seq: r.seq + 1, ptr: maps.Clone(r.ptr)}
	for k := range changed {
		next.ptr[k] = next.seq
	}
	next.recent = append([]segment{{seq: next.seq, lists: changed}}, r.recent[:min(len(r.recent), s.opts.InlineCommits-1)]...)
	next.cold = r.cold
	if err := s.demote(ctx, r, next); err != nil {
		return nil, nil, err
	}
	return results, next, nil
}

// demote keeps the root small: when next points to more than
// Options.HotKeys keys, the pointers to the oldest segments move to a
// new cold map (the current one plus them), which next names, until
// half that many are left. Only pointers to segments that left the
// inline window before this commit move: those segments were written
// to lin-kv when they left it (a key pointed to them then), so nothing
// a cold map points to ever waits to be written.
func (s *server) demote(ctx context.Context, r, next *root) error {
	if len(next.ptr) <= s.opts.HotKeys {
		return nil
	}
	limit := next.seq - int64(s.opts.InlineCommits) // older than the segment this commit evicts
	var old []int64
	for k, seq := range next.ptr {
		if seq < limit {
			old = append(old, k)
		}
	}
	if len(old) == 0 {
		return nil
	}
	slices.SortFunc(old, func(a, b int64) int {
		return cmp.Or(cmp.Compare(next.ptr[a], next.ptr[b]), cmp.Compare(a, b))
	})
	old = old[:min(len(old), len(next.ptr)-s.opts.HotKeys/2)]
	cold := map[int64]int64{}
	if r.cold != (coldRef{}) {
		m, err := s.coldMap(ctx, r.cold)
		if err != nil {
			return err
		}
		cold = maps.Clone(m)
	}
	for _, k := range old {
		cold[k] = next.ptr[k]
		delete(next.ptr, k)
	}
	t := max(time.Now().UnixNano(), s.lastT+1)
	s.lastT = t
	next.cold = coldRef{seq: next.seq, node: int64(slices.Index(s.n.NodeIDs(), s.n.ID())), t: t}
	next.newCold = cold
	return nil
}

// pointer returns the seq of the segment with key k's list in r, if k
// has one: from r's hot pointers, else from its cold map, which the
// caller has fetched (see fetch).
func (s *server) pointer(r *root, k int64) (int64, bool) {
	if seq, ok := r.ptr[k]; ok {
		return seq, true
	}
	if r.cold == (coldRef{}) {
		return 0, false
	}
	seq, ok := s.colds[r.cold][k]
	return seq, ok
}

// coldMap returns the cold map ref names, reading it from lin-kv the
// first time.
func (s *server) coldMap(ctx context.Context, ref coldRef) (map[int64]int64, error) {
	if m, ok := s.colds[ref]; ok {
		return m, nil
	}
	raw, err := s.load(ctx, coldKey(ref))
	if err != nil {
		return nil, err
	}
	m, err := decodePointersJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("cold map %s: %w", coldKey(ref), err)
	}
	s.colds[ref] = m
	return m, nil
}

// fetch makes sure every segment that reqs need from r is at hand,
// reading the missing ones from lin-kv in parallel.
func (s *server) fetch(ctx context.Context, r *root, reqs []*request) error {
	if r.cold != (coldRef{}) {
		if _, ok := s.colds[r.cold]; !ok && slices.ContainsFunc(reqs, func(req *request) bool {
			return slices.ContainsFunc(req.mops, func(m mop) bool { _, hot := r.ptr[m.k]; return !hot })
		}) {
			if _, err := s.coldMap(ctx, r.cold); err != nil {
				return err
			}
		}
	}
	need := map[int64]bool{}
	for _, req := range reqs {
		for _, m := range req.mops {
			seq, ok := s.pointer(r, m.k)
			if !ok || need[seq] {
				continue
			}
			if _, ok := r.inline(seq); ok {
				continue
			}
			if _, ok := s.cache[seq]; !ok {
				need[seq] = true
			}
		}
	}
	if len(need) == 0 {
		return nil
	}
	type got struct {
		seg segment
		err error
	}
	ch := make(chan got, len(need))
	for seq := range need {
		go func() {
			seg, err := s.readSegment(ctx, seq)
			ch <- got{seg, err}
		}()
	}
	var errs []error
	for range need {
		g := <-ch
		if g.err != nil {
			errs = append(errs, g.err)
			continue
		}
		s.cache[g.seg.seq] = g.seg
		s.written[g.seg.seq] = true
	}
	return errors.Join(errs...)
}

// readSegment reads commit seq's segment.
func (s *server) readSegment(ctx context.Context, seq int64) (segment, error) {
	raw, err := s.load(ctx, segmentKey(seq))
	if err != nil {
		return segment{}, err
	}
	return decodeSegmentJSON(seq, raw)
}

// load reads an immutable value. A root may name a segment or cold map
// whose write is still on its way (see commit), so a missing one is
// polled for a while.
func (s *server) load(ctx context.Context, key string) (json.RawMessage, error) {
	give := time.Now().Add(s.opts.GiveUpAfter)
	for {
		cctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
		var raw json.RawMessage
		err := s.kv.ReadInto(cctx, key, &raw)
		cancel()
		if err == nil {
			return raw, nil
		}
		if !node.IsKeyDoesNotExist(err) || time.Now().After(give) {
			return nil, fmt.Errorf("read %s: %w", key, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("read %s: %w", key, ctx.Err())
		case <-time.After(retryPause):
		}
	}
}

// commit installs next in place of base with a cas on the root. Before
// the cas it sends the writes next needs stored: the segment next pushes
// out of the inline window, if next still points to it and it is not
// known to be stored, and the cold map next starts, if any. They are sent
// first and not awaited: lin-kv (never partitioned, never losing a
// message) will apply them, maybe after the cas, and nodes that need
// them before they land poll for them. Sent before the cas, they land
// even if this node dies right after: a root never names a value that
// nobody is storing.
func (s *server) commit(ctx context.Context, base, next *root) error {
	for _, seg := range base.recent {
		if _, kept := next.inline(seg.seq); kept || s.written[seg.seq] {
			continue
		}
		for _, seq := range next.ptr {
			if seq == seg.seq {
				if s.send(segmentKey(seg.seq), encodeSegment(seg)) {
					s.written[seg.seq] = true
				}
				break
			}
		}
	}
	if next.newCold != nil && next.cold.seq == next.seq {
		s.send(coldKey(next.cold), encodePointers(next.newCold))
	}
	var from any // no root yet: create it
	if base.seq > 0 {
		from = base
	}
	cctx, cancel := context.WithTimeout(ctx, s.opts.CallTimeout)
	start := time.Now()
	err := s.kv.CompareAndSwap(cctx, rootKey, from, next, base.seq == 0)
	cancel()
	if err == nil || node.IsPreconditionFailed(err) {
		s.rtt += (time.Since(start) - s.rtt) / 4
	}
	if err != nil {
		return fmt.Errorf("cas root %d→%d: %w", base.seq, next.seq, err)
	}
	return nil
}

// send writes an immutable value to lin-kv without waiting for the
// reply, and reports whether the request left.
func (s *server) send(key string, value json.RawMessage) bool {
	body := struct {
		Type  string          `json:"type"`
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}{"write", key, value}
	err := s.n.RPC(node.LinKV, body, func(m node.Message) error {
		if e := m.RPCError(); e != nil {
			s.n.Logf("listappend: write %s: %v", key, e)
		}
		return nil
	})
	if err != nil {
		s.n.Logf("listappend: write %s: %v", key, err)
		return false
	}
	return true
}
