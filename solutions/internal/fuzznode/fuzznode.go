// Package fuzznode drives a solution's handlers with arbitrary message
// bodies, for the solutions' fuzz tests. It checks the two promises every
// node makes to the bench, whatever it is sent: it never panics, and it
// answers every request that carries a msg_id (with a reply or an error
// body) instead of dropping it silently.
//
// A fuzz input is a node count and a script: lines, each one message to
// the node, written "SRC BODY" (SRC a short id such as c1 or n2) or just
// BODY, which then comes from client c1. BODY is sent as the message's
// body unchanged, so it may be any bytes; lines that do not make a valid
// message are sent too, and the node must skip them. The node is n0 of
// n0…n(k−1) and is initialised by client c0 before the script starts.
// Messages it sends to the bench's key/value services and to lin-tso are
// answered by small in-memory versions of them; messages to other nodes
// are lost, as in a partition that never heals. Everything runs in a
// testing/synctest bubble, so timeouts cost no real time.
package fuzznode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/node/nodetest"
)

// Patience is how long, in the bubble's virtual time, a request may wait
// for its answer after the script has been sent. Clients give up after
// 5 s; a node that answers later still answers, but one that has not
// answered within a minute never will.
const Patience = time.Minute

// MaxNodes bounds the cluster size a fuzz input may ask for.
const MaxNodes = 3

// Seed adds seed inputs to f: the valid script, one script of malformed
// bodies made of the given ones and of malformations every node must
// survive (bodies that are not objects, reserved keys of the wrong type,
// repeated and conflicting inits, unknown types, stray replies), and each
// of those once for a single node and once for a cluster of MaxNodes.
func Seed(f *testing.F, valid, malformed []string) {
	common := []string{
		`{}`,
		`null`,
		`[]`,
		`"x"`,
		`{"msg_id":1}`,
		`{"type":7,"msg_id":2}`,
		`{"type":"read","msg_id":"3"}`,
		`{"type":"read","msg_id":1.5}`,
		`{"type":"no-such-type","msg_id":4}`,
		`{"type":"init","msg_id":5,"node_id":"n0","node_ids":["n0","n1","n2"]}`,
		`{"type":"init","msg_id":6,"node_id":"n0","node_ids":["n0"]}`,
		`{"type":"init","msg_id":7,"node_id":"n1","node_ids":["n0","n1"]}`,
		`{"type":"init","msg_id":8}`,
		`{"type":"error","in_reply_to":1,"code":13}`,
		`n1 {"type":"read_ok","in_reply_to":99,"value":1}`,
		`n1 {"type":"no-such-type","msg_id":9}`,
		`{"type":"read","msg_id":10,"key":{"a":[1,null]},"value":-1e400}`,
		`{"type":"read","msg_id":11`,
		`{"type":"read","msg_id":12}`,
	}
	scripts := []string{
		strings.Join(valid, "\n"),
		strings.Join(append(slices.Clone(malformed), common...), "\n"),
		strings.Join(append(slices.Clone(valid), malformed...), "\n"),
	}
	for _, s := range scripts {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(MaxNodes-1), []byte(s))
	}
}

// srcPattern is what a line's first word must look like to be its SRC.
var srcPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,7}$`)

// key identifies a request: its source and msg_id.
type key struct {
	src string
	id  int
}

// Check runs one fuzz input against a fresh node on which register has
// installed a solution; see the package documentation. It fails t if the
// node panics (in a handler, where the node library recovers and logs
// it, or anywhere else, which crashes the test), writes a line the bench
// would reject, or leaves a request with a msg_id unanswered within
// Patience; or if it answers a request more often than it was sent.
func Check(t *testing.T, register func(*node.Node), nodes uint8, script []byte) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logWatch{}
		for _, p := range check(t, register, 1+int(nodes)%MaxNodes, script, logs) {
			t.Error(p)
		}
		if t.Failed() {
			t.Logf("node log (last %d bytes):\n%s", logKeep, logs.tail())
		}
	})
}

// check runs the script against a fresh node inside the caller's bubble
// and returns the broken promises. Failures of the harness itself, and
// lines the bench would reject (see nodetest), fail t directly.
func check(t *testing.T, register func(*node.Node), nodes int, script []byte, logs *logWatch) (problems []string) {
	n := node.New(node.WithLogOutput(logs))
	register(n)
	c := nodetest.Start(t, n)

	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = fmt.Sprint("n", i)
	}
	initBody, err := json.Marshal(node.InitBody{Body: node.Body{Type: "init", MsgID: 1}, NodeID: "n0", NodeIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	lines := [][2]string{{"c0", string(initBody)}}
	for line := range bytes.Lines(script) {
		line = bytes.TrimRight(line, "\r\n")
		src, body := "c1", string(line)
		if word, rest, ok := strings.Cut(body, " "); ok && srcPattern.MatchString(word) {
			src, body = word, rest
		}
		lines = append(lines, [2]string{src, body})
	}

	r := &recorder{want: map[key]int{}, got: map[key]int{}, progress: make(chan struct{}, 1)}
	envelopes := make([]string, len(lines))
	for i, l := range lines {
		src, err := json.Marshal(l[0])
		if err != nil {
			t.Fatal(err)
		}
		// BODY is pasted in as it is. When it is not valid JSON by itself
		// the line may still be a message, e.g. BODY `{"msg_id":0},"":1`;
		// request reads the line as the node does.
		envelopes[i] = `{"src":` + string(src) + `,"dest":"n0","body":` + l[1] + `}`
		if k, ok := request(envelopes[i]); ok {
			r.want[k]++
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	services := newServices()
	served := make(chan struct{})
	go func() {
		defer close(served)
		r.serve(ctx, t, c, services)
	}()

	for _, e := range envelopes {
		if err := c.WriteLine(e); err != nil {
			t.Fatalf("writing to the node: %v", err)
		}
	}

	deadline := time.After(Patience)
	for !r.done() {
		select {
		case <-r.progress:
		case <-deadline:
			problems = append(problems, fmt.Sprintf("after %v: requests not answered (src, msg_id: sent, answered): %s", Patience, r.missing()))
			cancel()
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("node.Run: %v", err)
	}
	cancel()
	<-served
	if extra := r.extra(); extra != "" {
		problems = append(problems, "answers to requests never sent, or answered too often: "+extra)
	}
	if p := logs.panics(); p != "" {
		problems = append(problems, "the node panicked: "+p)
	}
	return problems
}

// request reports whether the node reads line as a request it must
// answer, and which: a JSON object whose top-level keys src and dest are
// strings (the last of each, a null undoing an earlier string, any other
// value making the line malformed) with a body whose header has an
// integer msg_id and no in_reply_to, as node.Run decides.
func request(line string) (key, bool) {
	if !json.Valid([]byte(line)) {
		return key{}, false
	}
	d := json.NewDecoder(strings.NewReader(line))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return key{}, false
	}
	var src string
	var haveSrc, haveDest bool
	var body json.RawMessage
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return key{}, false
		}
		name, _ := tok.(string)
		var val json.RawMessage
		if err := d.Decode(&val); err != nil {
			return key{}, false
		}
		switch name {
		case "src", "dest":
			var s *string
			if err := json.Unmarshal(val, &s); err != nil {
				return key{}, false // neither null nor a string
			}
			if name == "src" {
				src, haveSrc = "", s != nil
				if s != nil {
					src = *s
				}
			} else {
				haveDest = s != nil
			}
		case "body":
			body = val
		}
	}
	if !haveSrc || !haveDest || body == nil {
		return key{}, false
	}
	m := node.Message{Body: body}
	id, ok := m.MsgID()
	if _, reply := m.InReplyTo(); !ok || reply {
		return key{}, false
	}
	return key{src, id}, true
}

// recorder counts the requests sent and the answers received.
type recorder struct {
	mu       sync.Mutex
	want     map[key]int // requests with a msg_id sent, per key
	got      map[key]int // answers received, per key
	progress chan struct{}
}

// serve reads the node's output until it ends or ctx is done: it answers
// service requests and counts answers to the script's requests.
func (r *recorder) serve(ctx context.Context, t *testing.T, c *nodetest.Conn, s *services) {
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			if !errors.Is(err, nodetest.ErrEnded) && ctx.Err() == nil {
				t.Errorf("reading the node's output: %v", err)
			}
			return
		}
		if id, ok := m.InReplyTo(); ok {
			r.mu.Lock()
			r.got[key{m.Dest, id}]++
			r.mu.Unlock()
			select {
			case r.progress <- struct{}{}:
			default:
			}
			continue
		}
		if reply, ok := s.handle(m); ok {
			line, err := json.Marshal(node.Message{Src: m.Dest, Dest: m.Src, Body: reply})
			if err != nil {
				t.Errorf("encoding a %s reply: %v", m.Dest, err)
				return
			}
			if err := c.WriteLine(string(line)); err != nil {
				return // the node has stopped reading
			}
		}
	}
}

// done reports whether every request has had its answers.
func (r *recorder) done() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, n := range r.want {
		if r.got[k] < n {
			return false
		}
	}
	return true
}

// missing lists the requests still waiting for an answer.
func (r *recorder) missing() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k, n := range r.want {
		if r.got[k] < n {
			out = append(out, fmt.Sprintf("(%s, %d: %d, %d)", k.src, k.id, n, r.got[k]))
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// extra lists answers beyond the requests sent.
func (r *recorder) extra() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k, n := range r.got {
		if n > r.want[k] {
			out = append(out, fmt.Sprintf("(%s, %d: %d sent, %d answers)", k.src, k.id, r.want[k], n))
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// logKeep is how much of the node's log a failing check shows.
const logKeep = 16 << 10

// logWatch keeps the tail of the node's log and every line that reports
// a panic.
type logWatch struct {
	mu         sync.Mutex
	buf        []byte
	panicLines []string
}

func (l *logWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if bytes.Contains(p, []byte("node: panic")) {
		first, _, _ := bytes.Cut(p, []byte("\n"))
		l.panicLines = append(l.panicLines, string(first))
	}
	l.buf = append(l.buf, p...)
	if len(l.buf) > 2*logKeep {
		l.buf = append(l.buf[:0], l.buf[len(l.buf)-logKeep:]...)
	}
	return len(p), nil
}

func (l *logWatch) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf[max(0, len(l.buf)-logKeep):])
}

func (l *logWatch) panics() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.panicLines, "; ")
}
