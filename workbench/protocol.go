package workbench

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/process"
)

// This file holds what Maelstrom checks in the lines a node prints (one
// JSON message per line, with a valid envelope and a known destination),
// and what this bench notices besides: replies to clients that had
// closed, and messages no client can take as a reply.

// fromNode takes one line the node printed and sends it on, after the
// checks Maelstrom makes. After the first line that breaks the protocol
// (not JSON, wrong envelope, unknown destination) Maelstrom stops reading
// that node's stdout for the rest of the test; so do we, faithfully, and
// say so in the log. A line the process package refused as too long (bad)
// and JSON nested deeper than maxJSONDepth break the protocol the same
// way: they are this bench's limits, where Maelstrom's JSON parser has
// its own. Messages to clients that were already closed are dropped with
// a warning instead (Maelstrom would also stop reading).
func (c *cluster) fromNode(nc *nodeConn, line []byte, bad error) {
	if nc.protocolError() != nil {
		return
	}
	if bad != nil {
		nc.breakProtocol(bad, "")
		c.log.Errorf("Error! node %s %v. Ignoring everything it prints from now on, as Maelstrom does after a malformed line.", nc.id, bad)
		return
	}
	src, dest, body, err := parseEnvelope(line)
	if err == nil && !c.net.Known(src) {
		err = fmt.Errorf("invalid source for message: %q is not a node, client or service of this test", src)
	}
	if err == nil {
		nc.noteInitOK(dest, body)
		_, err = c.net.Send(src, dest, body)
		if errors.Is(err, netsim.ErrClosedDest) {
			nc.mu.Lock()
			nc.dropped++
			nc.mu.Unlock()
			c.log.Warnf("node %s sent a message to %s, a client that has already closed; dropped: %s", nc.id, printable(dest, 64), printable(line, 512))
			return
		}
	}
	if err != nil {
		shown := printable(line, 512)
		nc.breakProtocol(err, shown)
		c.log.Errorf("Error! node %s: %v; the line was: %s. Ignoring everything it prints from now on, as Maelstrom does.", nc.id, err, shown)
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

// strayReply records a message from a node to a client that no client
// can take as a reply, having no integer in_reply_to (the usual slip: a
// reply built without copying the request's msg_id). The first from each
// node is logged; the count and that example go into the results.
func (c *cluster) strayReply(src string, body json.RawMessage) {
	nc := c.nodes[src]
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
		c.log.Warnf("node %s sent a client a message without an integer in_reply_to, so no client can take it as a reply (a reply copies the request's msg_id into in_reply_to): %s", src, printable(body, 256))
	}
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

// protocolReport is what the :glomers section of the results says of
// the nodes' lines, node by node in id order: the first line of each that
// broke the protocol, how many replies went to clients that had already
// closed, and the messages to clients without an integer in_reply_to.
func (c *cluster) protocolReport() (bad edn.Map, dropped int, strays edn.Map) {
	ids := make([]string, 0, len(c.nodes))
	for id := range c.nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		nc := c.nodes[id]
		nc.mu.Lock()
		if nc.badLine != nil {
			bad = append(bad, edn.Entry{Key: id, Val: nc.badLine.Error()})
		}
		dropped += nc.dropped
		if nc.strays > 0 {
			strays = append(strays, edn.Entry{Key: id, Val: edn.K("count", nc.strays, "first", nc.stray)})
		}
		nc.mu.Unlock()
	}
	return bad, dropped, strays
}
