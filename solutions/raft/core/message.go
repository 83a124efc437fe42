package core

import "encoding/json"

// MsgType names a Raft message. The names double as the Maelstrom body
// "type" the node sends them under, so a message journal reads as Raft.
type MsgType string

// The messages nodes exchange. Votes and pre-votes follow the Raft
// thesis (Ongaro 2014, §3.4 and §9.6); heartbeats are separate from
// appends, as in etcd-io/raft, so that a heartbeat can carry a commit
// index the follower is known to have (min(match, commit)) and a read
// round for read-index (§6.4).
const (
	MsgHello         MsgType = "raft_hello"          // a node on probation asks: did you know an earlier life of mine?
	MsgHelloResp     MsgType = "raft_hello_resp"     // Known: yes, so the asker must never vote
	MsgPreVote       MsgType = "raft_pre_vote"       // would you vote for me in Term? (nobody's term changes)
	MsgPreVoteResp   MsgType = "raft_pre_vote_resp"  // Reject or not
	MsgVote          MsgType = "raft_vote"           // vote for me in Term
	MsgVoteResp      MsgType = "raft_vote_resp"      // Reject or not
	MsgApp           MsgType = "raft_app"            // AppendEntries after (Index, LogTerm)
	MsgAppResp       MsgType = "raft_app_resp"       // Index: last index now matching; or Reject with hints
	MsgHeartbeat     MsgType = "raft_heartbeat"      // leader is alive; Commit; Context: read round
	MsgHeartbeatResp MsgType = "raft_heartbeat_resp" // Context echoed
)

// Message is one Raft message. To is where it goes (the node layer sends
// it there); From is filled in by the receiver's node layer from the
// envelope's src, so a node cannot speak for another.
type Message struct {
	Type MsgType `json:"type"`
	From string  `json:"-"`
	To   string  `json:"-"`
	// Inc is the sender's incarnation: larger after every restart of the
	// sender. Receivers drop messages from an older incarnation than one
	// they have heard from.
	Inc  int64  `json:"inc"`
	Term uint64 `json:"term"`
	// LogTerm and Index: for MsgApp the entry preceding Entries; for votes
	// the candidate's last entry; for a rejected MsgAppResp, LogTerm is the
	// term of the follower's entry at RejectHint (0: none).
	LogTerm uint64  `json:"log_term,omitempty"`
	Index   uint64  `json:"index,omitempty"`
	Entries []Entry `json:"entries,omitempty"`
	Commit  uint64  `json:"commit,omitempty"`
	Reject  bool    `json:"reject,omitempty"`
	// RejectHint is the follower's guess of the last index that might
	// match, for the leader's fast back-off.
	RejectHint uint64 `json:"reject_hint,omitempty"`
	// Context is the read round a heartbeat carries and its response echoes.
	Context uint64 `json:"ctx,omitempty"`
	// Known answers MsgHello: the answerer knows of an earlier life of the
	// asker that was a voter (directly or by gossip).
	Known bool `json:"known,omitempty"`
	// Pristine, on an answer to MsgHello: the answerer has seen nothing
	// happen yet (term 0, empty log), as at the cluster's founding.
	Pristine bool `json:"pristine,omitempty"`
	// Voter: the sender is a voter (see Standing). A leader counts only
	// voters' acknowledgements toward commitment, read rounds and its
	// quorum check.
	Voter bool `json:"voter,omitempty"`
	// Lives gossips, for every node, the lowest incarnation the sender
	// knows it had as a voter, so that the knowledge that a node voted
	// before outlives the memory of the nodes that heard it directly. Hellos,
	// heartbeats and their answers carry it.
	Lives map[string]int64 `json:"lives,omitempty"`
}

// Entry is one log entry. Data is opaque to Raft (the node layer puts a
// JSON command there); an entry without Data is the no-op a new leader
// appends to commit something of its own term.
type Entry struct {
	Term  uint64          `json:"term"`
	Index uint64          `json:"index"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// ReadState says that a read the caller asked for with Raft.ReadIndex may
// be served from the state machine once it has applied Index.
type ReadState struct {
	ID    uint64
	Index uint64
}

// Ready is what the caller must do after feeding the core: send Messages,
// apply Committed entries in order, then serve ReadStates (each once
// Index is applied) and refuse DroppedReads.
type Ready struct {
	Messages     []Message
	Committed    []Entry
	ReadStates   []ReadState
	DroppedReads []uint64
}

// Empty reports whether there is nothing to do.
func (rd Ready) Empty() bool {
	return len(rd.Messages) == 0 && len(rd.Committed) == 0 && len(rd.ReadStates) == 0 && len(rd.DroppedReads) == 0
}
