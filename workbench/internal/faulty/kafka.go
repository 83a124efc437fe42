package faulty

import (
	"encoding/json"
	"sort"
	"sync"

	"github.com/glomers/glomers/node"
)

// kafkaFaults are the broken kafka logs (challenges 5a–5c).
func kafkaFaults() map[string]func(*node.Node) {
	return map[string]func(*node.Node){
		"kafka-per-node-offsets":  KafkaPerNodeOffsets,
		"kafka-skipping-poll":     KafkaSkippingPoll,
		"kafka-forgetful-commits": KafkaForgetfulCommits,
	}
}

// kafkaLog is an in-memory kafka node: per key, offset → message, and
// committed offsets. Its hooks decide what is broken.
type kafkaLog struct {
	n         *node.Node
	mu        sync.Mutex
	logs      map[string]map[int64]json.RawMessage
	next      map[string]int64 // next offset to assign per key
	committed map[string]int64
	// onSend runs after a send was stored at offset, under no lock.
	onSend func(key string, offset int64, msg json.RawMessage)
	// filter edits a poll's pairs of one key before they are returned;
	// it runs under the lock.
	filter func(pairs [][2]any) [][2]any
	// commit stores one committed offset; it runs under the lock.
	commit func(key string, offset int64)
}

// newKafkaLog returns a correct log serving n's kafka RPCs (send, poll,
// commit_offsets, list_committed_offsets); its hooks are for the caller
// to break.
func newKafkaLog(n *node.Node) *kafkaLog {
	l := &kafkaLog{n: n, logs: map[string]map[int64]json.RawMessage{}, next: map[string]int64{},
		committed: map[string]int64{},
		onSend:    func(string, int64, json.RawMessage) {},
		filter:    func(p [][2]any) [][2]any { return p },
	}
	l.commit = func(k string, o int64) { l.committed[k] = max(l.committed[k], o) }
	n.Handle("send", l.send)
	n.Handle("poll", l.poll)
	n.Handle("commit_offsets", l.commitOffsets)
	n.Handle("list_committed_offsets", l.listCommittedOffsets)
	return l
}

// kafkaRequest decodes the body of a kafka request into a T; a body that
// does not fit is a malformed request.
func kafkaRequest[T any](msg node.Message) (T, error) {
	var b T
	if err := msg.Unmarshal(&b); err != nil {
		return b, node.NewRPCError(node.MalformedRequest, err.Error())
	}
	return b, nil
}

// The bodies of the kafka requests: send's, poll's and commit_offsets'
// (an offset per key), and list_committed_offsets'.
type (
	kafkaSend struct {
		Key string          `json:"key"`
		Msg json.RawMessage `json:"msg"`
	}
	kafkaOffsets struct {
		Offsets map[string]int64 `json:"offsets"`
	}
	kafkaKeys struct {
		Keys []string `json:"keys"`
	}
)

// send stores a message at its key's next offset and acknowledges it
// with that offset.
func (l *kafkaLog) send(msg node.Message) error {
	b, err := kafkaRequest[kafkaSend](msg)
	if err != nil {
		return err
	}
	l.mu.Lock()
	off := l.next[b.Key]
	l.next[b.Key]++
	l.storeLocked(b.Key, off, b.Msg)
	l.mu.Unlock()
	l.onSend(b.Key, off, b.Msg)
	return l.n.Reply(msg, map[string]any{"type": "send_ok", "offset": off})
}

// poll returns, for each key asked, the messages from the given offset
// on that the filter keeps.
func (l *kafkaLog) poll(msg node.Message) error {
	b, err := kafkaRequest[kafkaOffsets](msg)
	if err != nil {
		return err
	}
	out := map[string][][2]any{}
	l.mu.Lock()
	for k, from := range b.Offsets {
		if pairs := l.filter(l.pairsLocked(k, from)); len(pairs) > 0 {
			out[k] = pairs
		}
	}
	l.mu.Unlock()
	return l.n.Reply(msg, map[string]any{"type": "poll_ok", "msgs": out})
}

// pairsLocked returns key's [offset message] pairs from offset from on,
// in offset order.
func (l *kafkaLog) pairsLocked(key string, from int64) [][2]any {
	var offs []int64
	for o := range l.logs[key] {
		if o >= from {
			offs = append(offs, o)
		}
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	var pairs [][2]any
	for _, o := range offs {
		pairs = append(pairs, [2]any{o, l.logs[key][o]})
	}
	return pairs
}

// commitOffsets records each committed offset through the commit hook.
func (l *kafkaLog) commitOffsets(msg node.Message) error {
	b, err := kafkaRequest[kafkaOffsets](msg)
	if err != nil {
		return err
	}
	l.mu.Lock()
	for k, o := range b.Offsets {
		l.commit(k, o)
	}
	l.mu.Unlock()
	return l.n.Reply(msg, map[string]any{"type": "commit_offsets_ok"})
}

// listCommittedOffsets answers the committed offset of each key asked
// that has one.
func (l *kafkaLog) listCommittedOffsets(msg node.Message) error {
	b, err := kafkaRequest[kafkaKeys](msg)
	if err != nil {
		return err
	}
	out := map[string]int64{}
	l.mu.Lock()
	for _, k := range b.Keys {
		if o, ok := l.committed[k]; ok {
			out[k] = o
		}
	}
	l.mu.Unlock()
	return l.n.Reply(msg, map[string]any{"type": "list_committed_offsets_ok", "offsets": out})
}

// storeLocked puts msg at offset of key unless that offset is taken.
func (l *kafkaLog) storeLocked(key string, offset int64, msg json.RawMessage) {
	log := l.logs[key]
	if log == nil {
		log = map[int64]json.RawMessage{}
		l.logs[key] = log
	}
	if _, taken := log[offset]; !taken {
		log[offset] = msg
	}
}

// KafkaPerNodeOffsets numbers each key's messages on every node on its
// own, counting only the sends it received itself, and copies them to
// the other nodes at the same offsets, fire and forget: two nodes hand
// out the same offsets to different messages, and each keeps its own
// message where they collide.
func KafkaPerNodeOffsets(n *node.Node) {
	l := newKafkaLog(n)
	l.onSend = func(key string, offset int64, msg json.RawMessage) {
		for _, p := range n.NodeIDs() {
			if p != n.ID() {
				_ = n.Send(p, map[string]any{"type": "replicate", "key": key, "offset": offset, "msg": msg})
			}
		}
	}
	n.Handle("replicate", func(msg node.Message) error {
		var b struct {
			Key    string          `json:"key"`
			Offset int64           `json:"offset"`
			Msg    json.RawMessage `json:"msg"`
		}
		if err := msg.Unmarshal(&b); err != nil {
			return err
		}
		l.mu.Lock()
		l.storeLocked(b.Key, b.Offset, b.Msg)
		l.mu.Unlock()
		return nil
	})
}

// KafkaSkippingPoll is a correct single log whose every third poll reply
// that holds three or more messages of a key leaves out the second.
func KafkaSkippingPoll(n *node.Node) {
	l := newKafkaLog(n)
	long := 0
	l.filter = func(pairs [][2]any) [][2]any {
		if len(pairs) < 3 {
			return pairs
		}
		long++
		if long%3 != 0 {
			return pairs
		}
		return append(pairs[:1:1], pairs[2:]...)
	}
}

// KafkaForgetfulCommits is a correct log that keeps only the latest
// commit of each key, and records every fourth committed offset one lower
// than asked: committed offsets go backwards after they were
// acknowledged. Maelstrom never looks at them, so only --strict sees it.
func KafkaForgetfulCommits(n *node.Node) {
	l := newKafkaLog(n)
	commits := 0
	l.commit = func(k string, o int64) {
		commits++
		if commits%4 == 0 {
			o--
		}
		l.committed[k] = o
	}
}
