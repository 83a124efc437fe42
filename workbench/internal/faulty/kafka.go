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

func newKafkaLog(n *node.Node) *kafkaLog {
	l := &kafkaLog{n: n, logs: map[string]map[int64]json.RawMessage{}, next: map[string]int64{},
		committed: map[string]int64{},
		onSend:    func(string, int64, json.RawMessage) {},
		filter:    func(p [][2]any) [][2]any { return p },
	}
	l.commit = func(k string, o int64) { l.committed[k] = max(l.committed[k], o) }
	n.Handle("send", func(msg node.Message) error {
		var b struct {
			Key string          `json:"key"`
			Msg json.RawMessage `json:"msg"`
		}
		if err := msg.Unmarshal(&b); err != nil {
			return node.NewRPCError(node.MalformedRequest, err.Error())
		}
		l.mu.Lock()
		off := l.next[b.Key]
		l.next[b.Key]++
		l.storeLocked(b.Key, off, b.Msg)
		l.mu.Unlock()
		l.onSend(b.Key, off, b.Msg)
		return n.Reply(msg, map[string]any{"type": "send_ok", "offset": off})
	})
	n.Handle("poll", func(msg node.Message) error {
		var b struct {
			Offsets map[string]int64 `json:"offsets"`
		}
		if err := msg.Unmarshal(&b); err != nil {
			return node.NewRPCError(node.MalformedRequest, err.Error())
		}
		out := map[string][][2]any{}
		l.mu.Lock()
		for k, from := range b.Offsets {
			var offs []int64
			for o := range l.logs[k] {
				if o >= from {
					offs = append(offs, o)
				}
			}
			sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
			var pairs [][2]any
			for _, o := range offs {
				pairs = append(pairs, [2]any{o, l.logs[k][o]})
			}
			if pairs = l.filter(pairs); len(pairs) > 0 {
				out[k] = pairs
			}
		}
		l.mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "poll_ok", "msgs": out})
	})
	n.Handle("commit_offsets", func(msg node.Message) error {
		var b struct {
			Offsets map[string]int64 `json:"offsets"`
		}
		if err := msg.Unmarshal(&b); err != nil {
			return node.NewRPCError(node.MalformedRequest, err.Error())
		}
		l.mu.Lock()
		for k, o := range b.Offsets {
			l.commit(k, o)
		}
		l.mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "commit_offsets_ok"})
	})
	n.Handle("list_committed_offsets", func(msg node.Message) error {
		var b struct {
			Keys []string `json:"keys"`
		}
		if err := msg.Unmarshal(&b); err != nil {
			return node.NewRPCError(node.MalformedRequest, err.Error())
		}
		out := map[string]int64{}
		l.mu.Lock()
		for _, k := range b.Keys {
			if o, ok := l.committed[k]; ok {
				out[k] = o
			}
		}
		l.mu.Unlock()
		return n.Reply(msg, map[string]any{"type": "list_committed_offsets_ok", "offsets": out})
	})
	return l
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
