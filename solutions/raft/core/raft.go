package core

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Role is what a node currently is in its term.
type Role int

// The roles. A pre-candidate asks for pre-votes before it raises its term
// (the Raft thesis §9.6), so a node cut off from the majority cannot
// inflate the term and depose a healthy leader when it comes back.
const (
	Follower Role = iota
	PreCandidate
	Candidate
	Leader
)

func (r Role) String() string {
	switch r {
	case Follower:
		return "follower"
	case PreCandidate:
		return "pre-candidate"
	case Candidate:
		return "candidate"
	case Leader:
		return "leader"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// Standing says whether a node may vote and campaign; see the package
// documentation on restarts.
type Standing int

// The standings.
const (
	// Probation: the node has not yet heard from every peer whether they
	// knew an earlier life of it. It replicates but neither votes nor
	// campaigns, and its acknowledgements do not count.
	Probation Standing = iota
	// Voter: every peer answered that it never heard from an earlier life.
	Voter
	// Amnesiac: some node knew an earlier life, whose votes and
	// acknowledgements this node has forgotten. It replicates, but it
	// never votes or campaigns again and its acknowledgements never count.
	Amnesiac
)

func (s Standing) String() string {
	switch s {
	case Probation:
		return "probation"
	case Voter:
		return "voter"
	case Amnesiac:
		return "amnesiac"
	}
	return fmt.Sprintf("Standing(%d)", int(s))
}

// Errors returned by Propose and ReadIndex. Both are definite: nothing
// was appended or started.
var (
	ErrNotLeader = errors.New("raft: not the leader")
	ErrNoQuorum  = errors.New("raft: the leader has not heard from a majority recently")
)

// Config configures one node's core.
type Config struct {
	ID    string   // this node
	Peers []string // every node of the cluster, ID included
	// Incarnation distinguishes lives of this node: it must be larger
	// after every restart (the node layer uses the start time).
	Incarnation int64
	// HeartbeatTicks is the number of ticks between heartbeats (default 1).
	HeartbeatTicks int
	// ElectionTicks is the election timeout E: a follower that hears
	// nothing from a leader for a random number of ticks in [E, 2E)
	// campaigns, and a leader that has not heard from a majority for E
	// ticks steps down (default 10 × HeartbeatTicks).
	ElectionTicks int
	// MaxEntries bounds the entries of one MsgApp (default 64).
	MaxEntries int
	// Rand returns a uniformly random int in [0, n). Required: the core
	// has no randomness of its own, so tests can replay it.
	Rand func(n int) int
}

// progress is the leader's view of one follower (etcd-io/raft's
// tracker.Progress, simplified). In probe state at most one MsgApp is in
// flight (paused until its answer or the next heartbeat answer) while the
// leader searches for the last matching index; in replicate state appends
// are pipelined and next runs ahead of match.
type progress struct {
	match, next uint64
	probing     bool
	paused      bool
	lastHeard   int    // tick of the last message from the follower in this term
	readAck     uint64 // highest read round the follower acknowledged in this term
	voter       bool   // the follower's current life said it is a voter
}

// readRound is one read-index round: the reads IDs may be served at index
// once a majority has acknowledged the leader with round or later.
type readRound struct {
	round uint64
	index uint64
	ids   []uint64
}

// Raft is the protocol core of one node. It does no I/O and reads no
// clock: the caller feeds it Tick, Step, Propose and ReadIndex, then
// takes the Ready and carries it out. It is not safe for concurrent use.
type Raft struct {
	id          string
	peers       []string // everyone but id, in configuration order
	quorum      int
	inc         int64
	hbTicks     int
	elTicks     int
	maxEntries  int
	rand        func(int) int
	standing    Standing
	fresh       map[string]bool  // peers that answered hello with "not known": whether they were pristine
	peerInc     map[string]int64 // newest incarnation heard from each peer
	lives       map[string]int64 // lowest incarnation known to have been a voter, of each node, self included
	now         int              // ticks since start
	elapsed     int              // ticks since the last reset of the election timer
	timeout     int              // randomised election timeout, in [E, 2E)
	hbElapsed   int
	term        uint64
	vote        string
	lead        string
	role        Role
	log         []Entry // log[i].Index == i+1: nothing is ever compacted
	commit      uint64
	applied     uint64
	votes       map[string]bool // answers to this (pre-)campaign
	prs         map[string]*progress
	round       uint64 // the last read round started in this term
	waiting     []uint64
	rounds      []readRound
	msgs        []Message
	readStates  []ReadState
	droppedRead []uint64
}

// New returns a follower in term 0 with an empty log. Unless it is alone,
// it starts on probation and its first Ready holds the MsgHellos that
// end it.
func New(cfg Config) *Raft {
	if cfg.Rand == nil {
		panic("raft: Config.Rand is required")
	}
	if cfg.HeartbeatTicks <= 0 {
		cfg.HeartbeatTicks = 1
	}
	if cfg.ElectionTicks <= 0 {
		cfg.ElectionTicks = 10 * cfg.HeartbeatTicks
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 64
	}
	r := &Raft{
		id: cfg.ID, inc: cfg.Incarnation, hbTicks: cfg.HeartbeatTicks, elTicks: cfg.ElectionTicks,
		maxEntries: cfg.MaxEntries, rand: cfg.Rand,
		fresh: map[string]bool{}, peerInc: map[string]int64{}, lives: map[string]int64{},
	}
	for _, p := range cfg.Peers {
		if p != cfg.ID && !slices.Contains(r.peers, p) {
			r.peers = append(r.peers, p)
		}
	}
	r.quorum = (len(r.peers)+1)/2 + 1
	r.becomeFollower(0, "")
	if len(r.peers) == 0 {
		r.becomeVoter()
	} else {
		r.sendHellos()
	}
	return r
}

// Status is a snapshot of a node's state, for the node layer and tests.
type Status struct {
	ID       string
	Term     uint64
	Vote     string
	Lead     string // "" when no leader is known
	Role     Role
	Standing Standing
	Commit   uint64
	Applied  uint64
	Last     uint64
	// LeadFresh: the node heard from its leader within the last three
	// heartbeat intervals (always true on a leader).
	LeadFresh bool
}

// Status returns the node's current state.
func (r *Raft) Status() Status {
	return Status{
		ID: r.id, Term: r.term, Vote: r.vote, Lead: r.lead, Role: r.role, Standing: r.standing,
		Commit: r.commit, Applied: r.applied, Last: r.lastIndex(),
		LeadFresh: r.role == Leader || (r.lead != "" && r.elapsed <= 3*r.hbTicks),
	}
}

// Lives returns, for every node this life knows had a voter life, the
// lowest incarnation it knows of such a life (itself included), for tests.
func (r *Raft) Lives() map[string]int64 { return maps.Clone(r.lives) }

// Log returns a copy of the node's log, for tests.
func (r *Raft) Log() []Entry { return slices.Clone(r.log) }

// Ready returns, and forgets, what the caller must now do. Committed
// entries count as applied once returned.
func (r *Raft) Ready() Ready {
	rd := Ready{Messages: r.msgs, ReadStates: r.readStates, DroppedReads: r.droppedRead}
	if r.commit > r.applied {
		rd.Committed = slices.Clone(r.log[r.applied:r.commit])
		r.applied = r.commit
	}
	r.msgs, r.readStates, r.droppedRead = nil, nil, nil
	return rd
}

// Tick advances the node's clock by one tick.
func (r *Raft) Tick() {
	r.now++
	r.elapsed++
	if r.standing == Probation && r.now%r.elTicks == 0 {
		r.sendHellos()
	}
	if r.role == Leader {
		if !r.quorumHeardWithin(r.elTicks) {
			r.becomeFollower(r.term, "") // check quorum (Raft thesis §6.2)
			return
		}
		r.hbElapsed++
		if r.hbElapsed >= r.hbTicks {
			r.hbElapsed = 0
			if len(r.waiting) > 0 && r.committedInTerm() {
				r.startRound() // sends the heartbeats
			} else {
				r.bcastHeartbeat()
			}
		}
		return
	}
	if r.elapsed >= r.timeout {
		r.elapsed = 0
		r.lead = "" // the leader, if any, has been silent for too long
		if r.standing == Voter {
			r.campaign()
		}
	}
}

// Propose appends data to the leader's log and returns its index and
// term: the entry is committed if an entry with that index and term is
// ever committed, and certainly never if another one is.
func (r *Raft) Propose(data []byte) (index, term uint64, err error) {
	if r.role != Leader {
		return 0, 0, ErrNotLeader
	}
	if !r.quorumHeardWithin(r.elTicks / 2) {
		return 0, 0, ErrNoQuorum
	}
	e := r.appendEntry(data)
	r.bcastAppend()
	r.maybeCommit()
	return e.Index, e.Term, nil
}

// ReadIndex asks for a linearizable read with the caller's id (Raft
// thesis §6.4): the leader notes its commit index, confirms with a
// heartbeat round that a majority still follows it, and then emits a
// ReadState. A leader that has not yet committed an entry of its term
// waits for that first. If the node stops being leader first, the id
// comes back in Ready.DroppedReads.
func (r *Raft) ReadIndex(id uint64) error {
	if r.role != Leader {
		return ErrNotLeader
	}
	if !r.quorumHeardWithin(r.elTicks / 2) {
		return ErrNoQuorum
	}
	r.waiting = append(r.waiting, id)
	if r.committedInTerm() && len(r.rounds) == 0 {
		r.startRound()
	}
	return nil
}

// Step feeds the core one message from a peer.
func (r *Raft) Step(m Message) {
	if m.From == r.id || !slices.Contains(r.peers, m.From) {
		return
	}
	// Even a message from an earlier life of its sender tells that the
	// life existed and was a voter, if it says so; so does the gossip of
	// what the sender knows.
	if m.Voter {
		r.learnLife(m.From, m.Inc)
	}
	for id, inc := range m.Lives {
		if id == r.id || slices.Contains(r.peers, id) {
			r.learnLife(id, inc)
		}
	}
	known, seen := r.peerInc[m.From]
	if seen && m.Inc < known {
		return // from an earlier life of the sender: its state is gone
	}
	if !seen || m.Inc > known {
		r.peerInc[m.From] = m.Inc
		if pr := r.prs[m.From]; seen && pr != nil {
			// The follower restarted with an empty log: start over.
			*pr = progress{next: r.lastIndex() + 1, probing: true}
		}
	}
	if pr := r.prs[m.From]; pr != nil {
		pr.voter = m.Voter
	}
	switch m.Type {
	case MsgHello:
		r.send(Message{Type: MsgHelloResp, To: m.From, Known: r.knewEarlier(m.From, m.Inc), Pristine: r.pristine(), Lives: r.lives})
		return
	case MsgHelloResp:
		r.onHelloResp(m)
		return
	}

	switch {
	case m.Term > r.term:
		if (m.Type == MsgPreVote || m.Type == MsgVote) && r.inLease() {
			// We heard from a leader less than an election timeout ago:
			// the candidate is the one cut off (Raft thesis §4.2.3).
			return
		}
		switch {
		case m.Type == MsgPreVote:
			// A pre-vote changes no one's term.
		case m.Type == MsgPreVoteResp && !m.Reject:
			// A granted pre-vote carries the term we would campaign in.
		case m.Type == MsgApp || m.Type == MsgHeartbeat:
			r.becomeFollower(m.Term, m.From)
		default:
			r.becomeFollower(m.Term, "")
		}
	case m.Term < r.term:
		switch m.Type {
		case MsgApp, MsgHeartbeat:
			// Tell a stale leader about the new term, or it would stay
			// leader of a minority forever (pre-votes keep our term from
			// reaching it otherwise).
			r.send(Message{Type: MsgAppResp, To: m.From})
		case MsgPreVote:
			r.send(Message{Type: MsgPreVoteResp, To: m.From, Reject: true})
		}
		return
	}

	switch m.Type {
	case MsgPreVote, MsgVote:
		r.onVote(m)
	case MsgPreVoteResp:
		if r.role == PreCandidate {
			r.tally(m.From, !m.Reject)
		}
	case MsgVoteResp:
		if r.role == Candidate {
			r.tally(m.From, !m.Reject)
		}
	case MsgApp:
		r.followLeader(m.From)
		r.onApp(m)
	case MsgHeartbeat:
		r.followLeader(m.From)
		if c := min(m.Commit, r.lastIndex()); c > r.commit {
			r.commit = c // the leader sends min(match, commit): our log holds it
		}
		r.send(Message{Type: MsgHeartbeatResp, To: m.From, Context: m.Context})
	case MsgAppResp:
		if r.role == Leader {
			r.onAppResp(m)
		}
	case MsgHeartbeatResp:
		if r.role == Leader {
			r.onHeartbeatResp(m)
		}
	}
}

// ---- elections ----

// inLease reports whether the node has heard from a leader less than an
// election timeout ago (a leader: it has not stepped down for want of a
// quorum, which it checks every tick).
func (r *Raft) inLease() bool {
	return r.role == Leader || (r.lead != "" && r.elapsed < r.elTicks)
}

func (r *Raft) resetTimer() {
	r.elapsed = 0
	r.hbElapsed = 0
	r.timeout = r.elTicks + r.rand(r.elTicks)
}

func (r *Raft) becomeFollower(term uint64, lead string) {
	if r.role == Leader || term > r.term {
		r.dropReads()
	}
	if term > r.term {
		r.term = term
		r.vote = ""
	}
	r.role = Follower
	r.lead = lead
	r.prs = nil
	r.resetTimer()
}

// followLeader handles a message from the leader of our term.
func (r *Raft) followLeader(from string) {
	if r.role != Follower {
		r.becomeFollower(r.term, from)
	}
	r.lead = from
	r.elapsed = 0
}

func (r *Raft) campaign() {
	r.role = PreCandidate
	r.lead = ""
	r.votes = map[string]bool{}
	r.resetTimer()
	r.tally(r.id, true)
	if r.role == PreCandidate {
		r.requestVotes(MsgPreVote, r.term+1)
	}
}

func (r *Raft) becomeCandidate() {
	r.term++
	r.vote = r.id
	r.role = Candidate
	r.lead = ""
	r.votes = map[string]bool{}
	r.resetTimer()
	r.tally(r.id, true)
	if r.role == Candidate {
		r.requestVotes(MsgVote, r.term)
	}
}

func (r *Raft) requestVotes(t MsgType, term uint64) {
	li, lt := r.lastIndex(), r.lastTerm()
	for _, p := range r.peers {
		r.send(Message{Type: t, To: p, Term: term, Index: li, LogTerm: lt})
	}
}

// tally records a (pre-)vote and acts once the outcome is decided.
func (r *Raft) tally(from string, granted bool) {
	r.votes[from] = granted
	yes, no := 0, 0
	for _, g := range r.votes {
		if g {
			yes++
		} else {
			no++
		}
	}
	switch {
	case yes >= r.quorum && r.role == PreCandidate:
		r.becomeCandidate()
	case yes >= r.quorum && r.role == Candidate:
		r.becomeLeader()
	case no >= r.quorum:
		r.becomeFollower(r.term, "")
	}
}

// onVote answers a vote or pre-vote whose term is not below ours (our
// term has already been raised to a real vote's term).
func (r *Raft) onVote(m Message) {
	resp := MsgVoteResp
	if m.Type == MsgPreVote {
		resp = MsgPreVoteResp
	}
	free := r.vote == m.From || (r.vote == "" && r.lead == "") || (m.Type == MsgPreVote && m.Term > r.term)
	upToDate := m.LogTerm > r.lastTerm() || (m.LogTerm == r.lastTerm() && m.Index >= r.lastIndex())
	if r.standing != Voter || !free || !upToDate {
		r.send(Message{Type: resp, To: m.From, Term: r.term, Reject: true})
		return
	}
	r.send(Message{Type: resp, To: m.From, Term: m.Term})
	if m.Type == MsgVote {
		r.vote = m.From
		r.elapsed = 0
	}
}

func (r *Raft) becomeLeader() {
	r.role = Leader
	r.lead = r.id
	r.resetTimer()
	r.prs = map[string]*progress{}
	for _, p := range r.peers {
		// Those who voted for us are voters; the others say so when they answer.
		r.prs[p] = &progress{next: r.lastIndex() + 1, probing: true, lastHeard: r.now, voter: r.votes[p]}
	}
	r.round = 0
	r.appendEntry(nil) // the no-op that lets the leader commit (Raft thesis §3.6.2)
	r.bcastAppend()
	r.maybeCommit()
}

// ---- probation ----

// learnLife records that node id had a life with incarnation inc. A node
// that learns of an earlier life of its own is amnesiac; one that learns
// of an earlier life of a peer whose later life it has heard from tells
// that peer, in case the peer is still waiting on, or was wrongly let out
// of, probation.
func (r *Raft) learnLife(id string, inc int64) {
	if cur, ok := r.lives[id]; ok && cur <= inc {
		return
	}
	r.lives[id] = inc
	switch {
	case id == r.id && inc < r.inc:
		r.forgot()
	case id != r.id && r.peerInc[id] > inc:
		r.send(Message{Type: MsgHelloResp, To: id, Known: true, Lives: r.lives})
	}
}

// forgot makes the node amnesiac, stepping down if it (wrongly) held
// office.
func (r *Raft) forgot() {
	r.standing = Amnesiac
	if r.role != Follower {
		r.becomeFollower(r.term, "")
	}
}

func (r *Raft) sendHellos() {
	for _, p := range r.peers {
		if _, answered := r.fresh[p]; !answered {
			r.send(Message{Type: MsgHello, To: p})
		}
	}
}

func (r *Raft) onHelloResp(m Message) {
	if m.Known {
		r.forgot() // even a voter: a peer knows it lived before
		return
	}
	if r.standing != Probation {
		return
	}
	r.fresh[m.From] = m.Pristine
	founders := 1 // peers that answered "not known" while pristine, and this node
	for _, p := range r.fresh {
		if p {
			founders++
		}
	}
	if len(r.fresh) == len(r.peers) || (founders >= r.quorum && r.pristine()) {
		r.becomeVoter()
	}
}

// becomeVoter ends probation well: from now on this life's votes and
// acknowledgements count, so it records itself, for the gossip, as a
// life that was a voter.
func (r *Raft) becomeVoter() {
	r.standing = Voter
	r.learnLife(r.id, r.inc)
}

// knewEarlier reports whether id had a voter life before incarnation inc.
func (r *Raft) knewEarlier(id string, inc int64) bool {
	cur, ok := r.lives[id]
	return ok && cur < inc
}

// pristine reports whether the node has seen nothing happen: term 0 and
// an empty log, as every node is when the cluster is founded.
func (r *Raft) pristine() bool { return r.term == 0 && r.lastIndex() == 0 }

// ---- the log ----

func (r *Raft) lastIndex() uint64 { return uint64(len(r.log)) }

func (r *Raft) lastTerm() uint64 { return r.termAt(r.lastIndex()) }

// termAt returns the term of the entry at i, 0 for i = 0 or beyond the log.
func (r *Raft) termAt(i uint64) uint64 {
	if i == 0 || i > r.lastIndex() {
		return 0
	}
	return r.log[i-1].Term
}

func (r *Raft) appendEntry(data []byte) Entry {
	e := Entry{Term: r.term, Index: r.lastIndex() + 1, Data: data}
	r.log = append(r.log, e)
	return e
}

// findConflictByTerm returns the largest index ≤ i whose term is ≤ term,
// with its term: everything after it certainly differs from a log whose
// entry at i has term term (etcd-io/raft's raftLog.findConflictByTerm).
func (r *Raft) findConflictByTerm(i, term uint64) (uint64, uint64) {
	i = min(i, r.lastIndex())
	for i > 0 && r.termAt(i) > term {
		i--
	}
	return i, r.termAt(i)
}

// onApp is the follower's side of AppendEntries: the consistency check on
// (Index, LogTerm), then append, truncating at the first conflict.
func (r *Raft) onApp(m Message) {
	if m.Index < r.commit {
		// Everything up to our commit index matches the leader's log.
		r.send(Message{Type: MsgAppResp, To: m.From, Term: r.term, Index: r.commit})
		return
	}
	if m.Index > r.lastIndex() || r.termAt(m.Index) != m.LogTerm {
		hint, hintTerm := r.findConflictByTerm(min(m.Index, r.lastIndex()), m.LogTerm)
		r.send(Message{Type: MsgAppResp, To: m.From, Term: r.term, Index: m.Index,
			Reject: true, RejectHint: hint, LogTerm: hintTerm})
		return
	}
	for k, e := range m.Entries {
		if e.Index <= r.lastIndex() && r.termAt(e.Index) == e.Term {
			continue
		}
		if e.Index <= r.commit {
			panic(fmt.Sprintf("raft %s: entry %d of term %d conflicts with committed entry of term %d", r.id, e.Index, e.Term, r.termAt(e.Index)))
		}
		r.log = append(r.log[:e.Index-1], m.Entries[k:]...)
		break
	}
	last := m.Index + uint64(len(m.Entries))
	if c := min(m.Commit, last); c > r.commit {
		r.commit = c
	}
	r.send(Message{Type: MsgAppResp, To: m.From, Term: r.term, Index: last})
}

// ---- the leader ----

// quorumHeardWithin reports whether a majority (the leader included)
// was heard from in the last ticks ticks.
func (r *Raft) quorumHeardWithin(ticks int) bool {
	n := 1
	for _, pr := range r.prs {
		if pr.voter && r.now-pr.lastHeard < ticks {
			n++
		}
	}
	return n >= r.quorum
}

func (r *Raft) committedInTerm() bool { return r.termAt(r.commit) == r.term }

func (r *Raft) bcastAppend() {
	for _, p := range r.peers {
		r.sendAppend(p, false)
	}
}

// sendAppend sends p the entries from its next index on. In replicate
// state with nothing new it sends nothing unless empty is set (an empty
// append then checks that p holds everything sent so far).
func (r *Raft) sendAppend(p string, empty bool) {
	pr := r.prs[p]
	if pr.paused {
		return
	}
	prev := pr.next - 1
	hi := min(r.lastIndex(), prev+uint64(r.maxEntries))
	if hi <= prev && !pr.probing && !empty {
		return
	}
	var ents []Entry
	if hi > prev {
		ents = slices.Clone(r.log[prev:hi])
	}
	r.send(Message{Type: MsgApp, To: p, Term: r.term, Index: prev, LogTerm: r.termAt(prev),
		Entries: ents, Commit: r.commit})
	if pr.probing {
		pr.paused = true
	} else if hi > prev {
		pr.next = hi + 1
	}
}

func (r *Raft) bcastHeartbeat() {
	for _, p := range r.peers {
		r.send(Message{Type: MsgHeartbeat, To: p, Term: r.term,
			Commit: min(r.prs[p].match, r.commit), Context: r.round})
	}
}

func (r *Raft) onAppResp(m Message) {
	pr := r.prs[m.From]
	pr.lastHeard = r.now
	if m.Reject {
		// Fast back-off (etcd-io/raft's stepLeader, MsgAppResp): skip
		// every index whose term shows it cannot match.
		hint := m.RejectHint
		if m.LogTerm > 0 {
			hint, _ = r.findConflictByTerm(m.RejectHint, m.LogTerm)
		}
		if pr.probing {
			if m.Index != pr.next-1 {
				return // answers an older probe
			}
			pr.next = max(min(m.Index, hint+1), pr.match+1)
		} else {
			if m.Index <= pr.match {
				return // stale
			}
			pr.next = max(min(m.Index, hint+1), pr.match+1)
			pr.probing = true
		}
		pr.paused = false
		r.sendAppend(m.From, false)
		return
	}
	if m.Index > pr.match {
		pr.match = m.Index
		pr.paused = false
	}
	pr.next = max(pr.next, pr.match+1)
	if pr.probing {
		pr.probing = false
		pr.paused = false
		pr.next = pr.match + 1
	}
	if r.maybeCommit() && len(r.waiting) > 0 && len(r.rounds) == 0 {
		r.startRound()
	}
	if pr.next <= r.lastIndex() {
		r.sendAppend(m.From, false)
	}
}

func (r *Raft) onHeartbeatResp(m Message) {
	pr := r.prs[m.From]
	pr.lastHeard = r.now
	pr.paused = false
	if m.Context > pr.readAck {
		pr.readAck = m.Context
		r.confirmRounds()
	}
	if pr.match < r.lastIndex() {
		r.sendAppend(m.From, true)
	}
}

// maybeCommit moves the commit index to the highest index a majority
// holds, if that entry is of the current term (Raft thesis §3.6.2: older
// entries are committed only indirectly). It reports whether it moved.
func (r *Raft) maybeCommit() bool {
	matches := []uint64{r.lastIndex()}
	for _, pr := range r.prs {
		if pr.voter {
			matches = append(matches, pr.match)
		}
	}
	if len(matches) < r.quorum {
		return false
	}
	slices.Sort(matches)
	slices.Reverse(matches)
	mci := matches[r.quorum-1]
	if mci > r.commit && r.termAt(mci) == r.term {
		r.commit = mci
		return true
	}
	return false
}

// ---- read index ----

func (r *Raft) startRound() {
	r.round++
	r.rounds = append(r.rounds, readRound{round: r.round, index: r.commit, ids: r.waiting})
	r.waiting = nil
	r.bcastHeartbeat()
	r.confirmRounds()
}

// confirmRounds emits the reads of every round a majority acknowledged.
func (r *Raft) confirmRounds() {
	for len(r.rounds) > 0 {
		rd := r.rounds[0]
		n := 1
		for _, pr := range r.prs {
			if pr.voter && pr.readAck >= rd.round {
				n++
			}
		}
		if n < r.quorum {
			break
		}
		for _, id := range rd.ids {
			r.readStates = append(r.readStates, ReadState{ID: id, Index: rd.index})
		}
		r.rounds = r.rounds[1:]
	}
	if len(r.rounds) == 0 && len(r.waiting) > 0 && r.committedInTerm() {
		r.startRound()
	}
}

func (r *Raft) dropReads() {
	for _, rd := range r.rounds {
		r.droppedRead = append(r.droppedRead, rd.ids...)
	}
	r.droppedRead = append(r.droppedRead, r.waiting...)
	r.rounds, r.waiting = nil, nil
}

func (r *Raft) send(m Message) {
	m.From = r.id
	m.Inc = r.inc
	m.Voter = r.standing == Voter
	switch m.Type {
	case MsgHello, MsgHelloResp, MsgHeartbeat, MsgHeartbeatResp:
		m.Lives = maps.Clone(r.lives)
	}
	if m.Term == 0 && m.Type != MsgHello && m.Type != MsgHelloResp {
		m.Term = r.term
	}
	r.msgs = append(r.msgs, m)
}
