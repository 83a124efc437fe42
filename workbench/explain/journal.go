package explain

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/netsim"
)

// Fates of a server message, as a Carrier records them: delivered, one
// of netsim's Drop* reasons, or still in flight when the journal ended.
const (
	FateDelivered = "delivered"
	FateInFlight  = "in-flight"
)

// Carrier is one server-to-server message that carried a value, and what
// became of it.
type Carrier struct {
	ID        int64
	Src, Dest string
	// Sent is when it was sent; At when it was delivered or dropped, -1
	// while it was still in flight at the end.
	Sent, At int64
	// Fate is FateDelivered, FateInFlight or a netsim Drop* reason.
	Fate string
	// Fault is the partition that dropped it (Fate netsim.DropPartition)
	// or the kill that had its receiver down (netsim.DropDown), when the
	// history shows one.
	Fault *Fault
	// ResentAfterHeal is set on a message a partition dropped when the
	// value was sent to the same receiver again after the partition
	// ended.
	ResentAfterHeal bool
}

// String renders the carrier for a story line: "n0 → n3 sent at 3.11 s:
// dropped at 3.21 s by the partition n0 n1 | n2 n3 n4 from 3.00 s to
// 8.00 s".
func (c Carrier) String() string {
	head := fmt.Sprintf("%s → %s sent %s: ", c.Src, c.Dest, At(c.Sent))
	switch c.Fate {
	case FateDelivered:
		return head + "delivered " + At(c.At)
	case FateInFlight:
		return head + "still in flight when the test ended"
	case netsim.DropPartition:
		s := head + "dropped " + At(c.At) + " by a partition"
		if c.Fault != nil {
			s = head + "dropped " + At(c.At) + " by " + c.Fault.String()
		}
		if c.ResentAfterHeal {
			s += " (re-sent after the heal)"
		}
		return s
	case netsim.DropDown:
		if c.Fault != nil {
			return head + "dropped " + At(c.At) + ": " + c.Fault.String()
		}
		return head + "dropped " + At(c.At) + ": " + c.Dest + " was down"
	}
	return head + "lost " + At(c.At) + ": " + DropReason(c.Fate)
}

// dropWords tell each of netsim's Drop* reasons in words: a label for
// a diagram's arrow, and a phrase for a sentence.
var dropWords = map[string]struct{ label, phrase string }{
	netsim.DropPartition:  {"partition", "a partition cut the sender off"},
	netsim.DropDown:       {"node down", "the receiver was down"},
	netsim.DropOverflow:   {"queue full", "too many bytes were already queued"},
	netsim.DropEnded:      {"still in flight at the end", "still queued when the test ended"},
	netsim.DropNoSuchNode: {"no such node", "sent to a node that does not exist"},
	netsim.DropClosed:     {"client closed", "sent to a client that had gone"},
}

// DropReason says in a phrase why a message was lost (a netsim.Event's
// Drop): "a partition cut the sender off", ...
func DropReason(drop string) string {
	if w, ok := dropWords[drop]; ok {
		return w.phrase
	}
	return drop
}

// DropLabel says in a word or two why a message was lost, for a
// diagram: "partition", "node down", ...
func DropLabel(drop string) string {
	if w, ok := dropWords[drop]; ok {
		return w.label
	}
	return drop
}

// Trail is what became of one value in the servers' messages: every
// server-to-server message whose body held it as a JSON integer.
type Trail struct {
	Value int64
	// Sent counts the messages that carried it; ByFate counts them by
	// fate (FateDelivered, FateInFlight, netsim's Drop* reasons).
	Sent   int
	ByFate map[string]int
	// Resent counts the partition drops after which the value was sent
	// to the same receiver again once the partition had ended; Healed
	// counts the partition drops whose partition ended before the run
	// did (so that a re-send was possible).
	Resent, Healed int
	// Reached maps each node that was delivered a message carrying the
	// value to the first such delivery's time.
	Reached map[string]int64
	// Missed maps each receiver to which a message carrying the value
	// did not get through to that message's fate (a Drop* reason or
	// FateInFlight), for the first such message.
	Missed map[string]string
	// Messages are some of the carriers, in the order they were sent:
	// every one that was not delivered up to a bound, and the first few
	// deliveries.
	Messages []Carrier

	delivered, lost int // carriers kept in Messages by kind
	// healAt holds, per receiver, the partition drops on the way there
	// that no re-send has followed yet.
	healAt map[string][]healWait
}

// Bounds on the carriers a Trail keeps.
const (
	maxTrailDelivered = 6
	maxTrailLost      = 14
)

// pendingCarrier is a message in flight that carries tracked values.
type pendingCarrier struct {
	src, dest string
	sent      int64
	values    []int64
}

// Trails follows values through the servers' messages: it reads the
// journal once, keeps the server-to-server messages whose bodies hold
// one of the values as a JSON integer (msg_id and in_reply_to aside), and
// returns each value's trail. Values no message carried have a trail
// with Sent 0. Without a journal it returns nil and no error. Memory is
// bounded by the values and the messages in flight at any one time.
func Trails(ev *Evidence, values []int64) (map[int64]*Trail, error) {
	if ev.Journal == nil {
		return nil, nil
	}
	f := &trailFollower{ev: ev, trails: make(map[int64]*Trail, len(values)),
		servers: make(map[string]bool, len(ev.Nodes)), pending: map[int64]*pendingCarrier{}}
	for _, v := range values {
		f.trails[v] = &Trail{Value: v, ByFate: map[string]int{}, Reached: map[string]int64{}, Missed: map[string]string{}}
	}
	for _, n := range ev.Nodes {
		f.servers[n] = true
	}
	if err := ev.Journal(f.event); err != nil {
		return f.trails, fmt.Errorf("explain: reading the network journal: %w", err)
	}
	f.finish()
	return f.trails, nil
}

// trailFollower is Trails at work: the trails so far, and the carriers
// in flight.
type trailFollower struct {
	ev      *Evidence
	trails  map[int64]*Trail
	servers map[string]bool
	pending map[int64]*pendingCarrier
}

// carried returns the tracked values m's body holds, sorted, once each.
func (f *trailFollower) carried(m *netsim.Message) []int64 {
	var out []int64
	Integers(m.Body, func(n int64) {
		if _, ok := f.trails[n]; ok {
			out = append(out, n)
		}
	})
	if len(out) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}

// event takes one journal event: a send between servers starts a
// carrier, a delivery or a drop settles it.
func (f *trailFollower) event(e netsim.Event) bool {
	m := e.Msg
	if m == nil || !f.servers[m.Src] || (!f.servers[m.Dest] && e.Drop != netsim.DropNoSuchNode) {
		return true
	}
	if e.Drop == "" && !e.Recv { // a send
		vs := f.carried(m)
		if len(vs) == 0 {
			return true
		}
		f.pending[m.ID] = &pendingCarrier{src: m.Src, dest: m.Dest, sent: e.Time, values: vs}
		for _, v := range vs {
			f.trails[v].sent(m.Dest, e.Time)
		}
		return true
	}
	p, ok := f.pending[m.ID]
	if !ok {
		if e.Drop != netsim.DropNoSuchNode {
			return true
		}
		// Never queued, so never sent: the drop is all there is.
		p = &pendingCarrier{src: m.Src, dest: m.Dest, sent: e.Time, values: f.carried(m)}
		for _, v := range p.values {
			f.trails[v].sent(m.Dest, e.Time)
		}
	}
	delete(f.pending, m.ID)
	c := Carrier{ID: m.ID, Src: p.src, Dest: p.dest, Sent: p.sent, At: e.Time, Fate: FateDelivered}
	if e.Drop != "" {
		c.Fate = e.Drop
		c.Fault = dropFault(f.ev, e.Drop, p.sent, e.Time, p.src, p.dest)
	}
	for _, v := range p.values {
		f.trails[v].settle(c)
	}
	return true
}

// finish settles the carriers still in flight when the journal ended
// and puts each trail's messages in the order they were sent.
func (f *trailFollower) finish() {
	for id, p := range f.pending {
		c := Carrier{ID: id, Src: p.src, Dest: p.dest, Sent: p.sent, At: -1, Fate: FateInFlight}
		for _, v := range p.values {
			f.trails[v].settle(c)
		}
	}
	for _, t := range f.trails {
		slices.SortStableFunc(t.Messages, func(a, b Carrier) int {
			if a.Sent != b.Sent {
				return cmp.Compare(a.Sent, b.Sent)
			}
			return cmp.Compare(a.ID, b.ID)
		})
		t.healAt = nil
	}
}

// dropFault finds the fault behind a drop: the partition that cut src
// off from dest, or the kill that had dest down, when the message fell
// due (or, failing that, when it was sent).
func dropFault(ev *Evidence, drop string, sent, at int64, src, dest string) *Fault {
	kind := map[string]string{netsim.DropPartition: nemesis.FaultPartition, netsim.DropDown: nemesis.FaultKill}[drop]
	if kind == "" {
		return nil
	}
	for _, t := range []int64{at, sent} {
		if f, ok := ev.FaultAt(kind, t, src, dest); ok {
			return &f
		}
	}
	return nil
}

// healWait is the partition drops of a value on its way to one receiver
// whose partition ended at end, with no re-send seen yet.
type healWait struct {
	end   int64
	drops int
	kept  []int // their indexes in Messages, for those kept
}

// sent records a message carrying the value to dest at t: a re-send, for
// every partition drop on the way to dest whose partition had ended.
func (t *Trail) sent(dest string, at int64) {
	t.Sent++
	waits := t.healAt[dest]
	if len(waits) == 0 {
		return
	}
	kept := waits[:0]
	for _, w := range waits {
		if at <= w.end {
			kept = append(kept, w)
			continue
		}
		t.Resent += w.drops
		for _, i := range w.kept {
			t.Messages[i].ResentAfterHeal = true
		}
	}
	t.healAt[dest] = kept
}

// settle records a carrier's fate.
func (t *Trail) settle(c Carrier) {
	t.ByFate[c.Fate]++
	if c.Fate == FateDelivered {
		if _, ok := t.Reached[c.Dest]; !ok {
			t.Reached[c.Dest] = c.At
		}
		if t.delivered < maxTrailDelivered {
			t.delivered++
			t.Messages = append(t.Messages, c)
		}
		return
	}
	if _, ok := t.Missed[c.Dest]; !ok {
		t.Missed[c.Dest] = c.Fate
	}
	index := -1
	if t.lost < maxTrailLost {
		t.lost++
		index = len(t.Messages)
		t.Messages = append(t.Messages, c)
	}
	if c.Fate != netsim.DropPartition || c.Fault == nil || c.Fault.End < 0 {
		return
	}
	t.Healed++
	if t.healAt == nil {
		t.healAt = map[string][]healWait{}
	}
	waits := t.healAt[c.Dest]
	i := slices.IndexFunc(waits, func(w healWait) bool { return w.end == c.Fault.End })
	if i < 0 {
		i = len(waits)
		waits = append(waits, healWait{end: c.Fault.End})
	}
	waits[i].drops++
	if index >= 0 {
		waits[i].kept = append(waits[i].kept, index)
	}
	t.healAt[c.Dest] = waits
}

// Integers calls fn with every integer in a JSON body, except the values
// of "msg_id" and "in_reply_to": numbers inside strings, and numbers with
// a fraction or an exponent, are skipped. It does not check that the
// body is valid JSON.
func Integers(body []byte, fn func(int64)) {
	var key []byte // the last object key read
	afterColon := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(body) && body[j] != '"' {
				if body[j] == '\\' {
					j++
				}
				j++
			}
			s := body[min(i+1, len(body)):min(j, len(body))]
			i = j
			// A string followed by a colon is a key.
			k := i + 1
			for k < len(body) && (body[k] == ' ' || body[k] == '\t' || body[k] == '\n' || body[k] == '\r') {
				k++
			}
			if k < len(body) && body[k] == ':' {
				key = s
			}
			afterColon = false
		case c == ':':
			afterColon = true
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			if c == '-' {
				j++
			}
			var n int64
			digits, overflow := 0, false
			for j < len(body) && body[j] >= '0' && body[j] <= '9' {
				if n > (1<<63-1-9)/10 {
					overflow = true
				}
				n = n*10 + int64(body[j]-'0')
				digits++
				j++
			}
			fraction := j < len(body) && (body[j] == '.' || body[j] == 'e' || body[j] == 'E')
			for j < len(body) && (body[j] == '.' || body[j] == 'e' || body[j] == 'E' || body[j] == '+' || body[j] == '-' || (body[j] >= '0' && body[j] <= '9')) {
				j++
			}
			skip := afterColon && (string(key) == "msg_id" || string(key) == "in_reply_to")
			if digits > 0 && !fraction && !overflow && !skip {
				if c == '-' {
					n = -n
				}
				fn(n)
			}
			i = j - 1
			afterColon = false
		case c == ',' || c == '[' || c == '{':
			afterColon = false
		}
	}
}
