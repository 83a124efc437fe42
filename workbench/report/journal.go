package report

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
)

// The journal's files in a test's directory.
const (
	// JournalFile is the network journal, one JSON object per event
	// (see JournalEntry), gzip-compressed, written while the test runs.
	JournalFile = "net-journal.jsonl.gz"
	// MessagesIndexFile describes the journal for drawing it: its lanes,
	// its windows of DiagramEventsPerWindow events and their times, and
	// whether it was truncated (see MessagesIndex).
	MessagesIndexFile = "messages.json"
)

// Bounds on what the journal file holds, so that no node can fill a
// disk: a body longer than MaxJournalBody is replaced by a marker
// holding its first kilobyte and its length, and once the file reaches
// MaxJournalBytes compressed or MaxJournalRawBytes uncompressed, later
// events are counted but no longer written, and the file ends with a
// line saying so. A 30 s test at 1,000 ops/s writes about 13 MB
// uncompressed, 1.3 MB compressed.
const (
	MaxJournalBody     = 64 << 10
	MaxJournalBytes    = 32 << 20
	MaxJournalRawBytes = 256 << 20
)

// maxLanes bounds the lanes a diagram draws for endpoints other than the
// clients and the nodes (services, or ids a node made up).
const maxLanes = 64

// bodyHead is how much of a body too long for the journal its marker keeps.
const bodyHead = 1 << 10

// MessagesIndex is messages.json: what drawing any window of the
// Lamport diagram needs besides the window's own events.
type MessagesIndex struct {
	Window    int        `json:"window"`    // events per window
	Events    int64      `json:"events"`    // events the network journalled
	Written   int64      `json:"written"`   // events in the journal file
	Truncated string     `json:"truncated"` // why events are missing, "" when none are
	Lanes     []string   `json:"lanes"`     // every window's lanes, in order
	Windows   [][2]int64 `json:"windows"`   // times of each window's first and last events
	// DiagramNotes, the faults and the history's clock, are stored once
	// the history is known (see Store.WriteMessagesSVG).
	DiagramNotes
}

// Slices describes the diagram's windows: messages.svg for the first,
// messages-001.svg, messages-002.svg, ... for the others.
func (x *MessagesIndex) Slices() []MessageSlice {
	out := make([]MessageSlice, max(len(x.Windows), 1))
	for i := range out {
		first := int64(i) * int64(x.Window)
		end := min(first+int64(x.Window), x.Written)
		out[i] = MessageSlice{File: windowFile(i), First: int(first), End: int(end), Total: int(x.Written), Offset: x.Offset}
		if i < len(x.Windows) {
			out[i].From, out[i].To = x.Windows[i][0], x.Windows[i][1]
		}
	}
	return out
}

// windowFile names window i: messages.svg for the first, which is
// written as a file, and messages-NNN.svg for the others, which
// `glomers serve` draws on request.
func windowFile(i int) string {
	if i == 0 {
		return "messages.svg"
	}
	return fmt.Sprintf("messages-%03d.svg", i)
}

// JournalWriter streams the network journal to net-journal.jsonl.gz
// while a test runs, keeping in memory only what messages.json needs:
// the lanes and the times of each window's first and last events
// (16 bytes per DiagramEventsPerWindow events). Add is safe for
// concurrent use, though the network calls it one event at a time.
type JournalWriter struct {
	dir       string
	nodeOrder []string

	mu        sync.Mutex
	f         *os.File
	count     countingWriter
	gz        *gzip.Writer
	line      []byte
	raw       int64
	idx       MessagesIndex
	endpoints map[string]bool
	clients   bool
	err       error
	closed    bool
	// The bounds of the file, MaxJournalBytes and MaxJournalRawBytes
	// (lowered by tests).
	maxBytes, maxRaw int64
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// openJournal creates net-journal.jsonl.gz in the test directory dir
// (see Store.OpenJournal).
func openJournal(dir string, nodeOrder []string) (*JournalWriter, error) {
	f, err := os.Create(filepath.Join(dir, JournalFile))
	if err != nil {
		return nil, fmt.Errorf("report: journal: %w", err)
	}
	j := &JournalWriter{
		dir: dir, nodeOrder: slices.Clone(nodeOrder), f: f,
		idx:       MessagesIndex{Window: DiagramEventsPerWindow},
		endpoints: map[string]bool{},
		maxBytes:  MaxJournalBytes, maxRaw: MaxJournalRawBytes,
	}
	j.count.w = f
	// Compression runs on the network's path. Level 5 shrinks a journal
	// about elevenfold at some 50 MB/s; the default level gains nothing
	// more on journals and takes half as long again, level 1 leaves a
	// third more.
	j.gz, _ = gzip.NewWriterLevel(&j.count, 5)
	return j, nil
}

// Add journals one event. Failures are kept and returned by Close; an
// event past the file's bounds is only counted.
func (j *JournalWriter) Add(e JournalEntry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	j.idx.Events++
	if j.err != nil || j.idx.Truncated != "" {
		return
	}
	switch {
	case j.count.n >= j.maxBytes:
		j.idx.Truncated = fmt.Sprintf("the journal file reached %d MB compressed", j.maxBytes>>20)
		return
	case j.raw >= j.maxRaw:
		j.idx.Truncated = fmt.Sprintf("the journal reached %d MB", j.maxRaw>>20)
		return
	}
	j.line = appendJournalLine(j.line[:0], e)
	j.raw += int64(len(j.line))
	if _, err := j.gz.Write(j.line); err != nil {
		j.err = fmt.Errorf("report: journal: %w", err)
		return
	}
	if cap(j.line) > 4*MaxJournalBody {
		j.line = nil // do not keep a huge buffer for the rest of the run
	}
	n := j.idx.Written
	if n%int64(DiagramEventsPerWindow) == 0 {
		j.idx.Windows = append(j.idx.Windows, [2]int64{e.Time, e.Time})
	}
	j.idx.Windows[len(j.idx.Windows)-1][1] = e.Time
	j.idx.Written++
	for _, id := range laneEndpoints(e) {
		switch {
		case isClient(id):
			j.clients = true
		case len(j.endpoints) < maxLanes+len(j.nodeOrder):
			j.endpoints[id] = true
		}
	}
}

// Close ends the journal file (with a last line saying how many events
// were left out, if any were) and writes messages.json. Later calls do
// nothing.
func (j *JournalWriter) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	errs := []error{j.err}
	if j.idx.Truncated != "" {
		marker, _ := json.Marshal(struct {
			Truncated string `json:"truncated"`
			Events    int64  `json:"events"`
			Written   int64  `json:"written"`
		}{j.idx.Truncated, j.idx.Events, j.idx.Written})
		_, err := j.gz.Write(append(marker, '\n'))
		errs = append(errs, err)
	}
	errs = append(errs, j.gz.Close(), j.f.Close())
	j.idx.Lanes = lanesOf(j.nodeOrder, j.clients, j.endpoints)
	b, err := json.Marshal(&j.idx)
	if err == nil {
		err = os.WriteFile(j.dir+string(os.PathSeparator)+MessagesIndexFile, append(b, '\n'), 0o644)
	}
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("report: journal: %w", err)
	}
	return nil
}

// Summary says how many events the journal file holds and, when it was
// truncated, why.
func (j *JournalWriter) Summary() (events, written int64, truncated string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.idx.Events, j.idx.Written, j.idx.Truncated
}

// lanesOf orders a diagram's lanes: "clients" first when there are any,
// then the nodes in nodeOrder, then every other endpoint by name.
func lanesOf(nodeOrder []string, clients bool, endpoints map[string]bool) []string {
	var lanes, others []string
	if clients {
		lanes = append(lanes, clientsLane)
	}
	seen := map[string]bool{}
	for _, n := range nodeOrder {
		if !seen[n] && !isClient(n) {
			seen[n] = true
			lanes = append(lanes, n)
		}
	}
	for id := range endpoints {
		if !seen[id] {
			others = append(others, id)
		}
	}
	slices.Sort(others)
	return append(lanes, others...)
}

// appendJournalLine appends e's line of the journal file:
// {"recv":false,"time":1200,"id":0,"src":"c1","dest":"n0","body":{...}},
// with ,"drop":"partition" before the closing brace for a drop, the body
// compacted onto the line, or replaced by
// {"glomers-truncated-body":LENGTH,"head":"FIRST KILOBYTE"} when it is
// longer than MaxJournalBody (or is not JSON).
func appendJournalLine(b []byte, e JournalEntry) []byte {
	b = append(b, `{"recv":`...)
	b = strconv.AppendBool(b, e.Recv)
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, e.Time, 10)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	b = append(b, `,"src":`...)
	b = appendJSONString(b, e.Src)
	b = append(b, `,"dest":`...)
	b = appendJSONString(b, e.Dest)
	b = append(b, `,"body":`...)
	switch {
	case len(e.Body) == 0:
		b = append(b, "null"...)
	case len(e.Body) > MaxJournalBody:
		b = appendBodyMarker(b, e.Body)
	default:
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, e.Body); err != nil {
			b = appendBodyMarker(b, e.Body)
		} else {
			b = buf.Bytes()
		}
	}
	if e.Drop != "" {
		b = append(b, `,"drop":`...)
		b = appendJSONString(b, e.Drop)
	}
	return append(b, "}\n"...)
}

func appendBodyMarker(b, body []byte) []byte {
	b = append(b, `{"glomers-truncated-body":`...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, `,"head":`...)
	head := body[:min(len(body), bodyHead)]
	return append(appendJSONString(b, string(bytes.ToValidUTF8(head, nil))), '}')
}

func appendJSONString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s)
	return append(b, enc...)
}

// maxJournalLine bounds one line read back from a journal file.
const maxJournalLine = 4 * MaxJournalBody

// ReadMessagesIndex reads messages.json from a test's directory.
func ReadMessagesIndex(dir fs.FS) (*MessagesIndex, error) {
	b, err := readSmallFile(dir, MessagesIndexFile, 16<<20)
	if err != nil {
		return nil, err
	}
	var x MessagesIndex
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("report: %s: %w", MessagesIndexFile, err)
	}
	if x.Window <= 0 {
		return nil, fmt.Errorf("report: %s: window of %d events", MessagesIndexFile, x.Window)
	}
	return &x, nil
}

// WriteMessagesFromJournal draws window i of the Lamport diagram of the
// test whose directory is dir, reading its messages.json and streaming
// its net-journal.jsonl.gz: it holds the window's events, reduced to
// what their arrows show, and a bitset of the ids sent before the
// window, never the whole journal. Every window has the lanes of the
// whole run.
func WriteMessagesFromJournal(w io.Writer, dir fs.FS, i int) error {
	x, err := ReadMessagesIndex(dir)
	if err != nil {
		return err
	}
	wins := x.Slices()
	if i < 0 || i >= len(wins) {
		return fmt.Errorf("report: window %d of %d: %w", i, len(wins), fs.ErrNotExist)
	}
	f, err := openRegular(dir, JournalFile)
	if err != nil {
		return err
	}
	defer f.Close()
	v, err := scanWindow(f, wins[i])
	if err != nil {
		return fmt.Errorf("report: %s: %w", JournalFile, err)
	}
	v.lanes, v.faults = x.Lanes, x.Faults
	return v.write(w)
}

// scanWindow reads a gzip-compressed journal for the window win.
func scanWindow(r io.Reader, win MessageSlice) (*windowView, error) {
	var sentBefore idBits
	pending := map[int64]bool{} // sent in the window, neither delivered nor dropped yet
	v := newWindowView(win)
	v.sentBefore = sentBefore.has
	err := eachJournalLine(r, func(i int, line []byte) (bool, error) {
		switch {
		case i < win.First:
			ev, err := peekEvent(line)
			if err != nil {
				return false, fmt.Errorf("event %d: %w", i, err)
			}
			if ev.isSend() {
				sentBefore.add(ev.id)
			}
		case i < win.End:
			var e JournalEntry
			if err := json.Unmarshal(line, &e); err != nil {
				return false, fmt.Errorf("event %d: %w", i, err)
			}
			if e.Recv || e.Drop != "" {
				delete(pending, e.ID)
			} else {
				pending[e.ID] = true
			}
			v.shown = append(v.shown, shownOf(e))
		default:
			if len(pending) == 0 {
				return false, nil
			}
			ev, err := peekEvent(line)
			if err != nil {
				return false, fmt.Errorf("event %d: %w", i, err)
			}
			if ev.isSend() || !pending[ev.id] {
				return true, nil
			}
			delete(pending, ev.id)
			if ev.recv {
				v.recvLater[ev.id] = true
			} else {
				v.dropLater[ev.id] = ev.drop
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// peeked is what peekEvent reads of a journal line.
type peeked struct {
	recv bool
	id   int64
	drop string // why the message was lost; "" for a send or a delivery
}

func (p peeked) isSend() bool { return !p.recv && p.drop == "" }

// peekEvent reads whether a journal line is a send, a delivery or a
// drop, and its message id, quickly for the lines appendJournalLine
// writes and through encoding/json for any other. A drop's line, and no
// other, ends with a string: ,"drop":"partition"} (a body is an object
// or null, so any other line ends with } or l before its last brace).
func peekEvent(line []byte) (peeked, error) {
	recv, _, id, _, ok := journalHead(line)
	if ok && len(line) > 0 && line[len(line)-1] == '}' {
		var drop string
		if _, drop, ok = splitDrop(line[:len(line)-1]); ok {
			return peeked{recv: recv, id: id, drop: drop}, nil
		}
	}
	var e struct {
		Recv bool   `json:"recv"`
		ID   int64  `json:"id"`
		Drop string `json:"drop"`
	}
	if err := json.Unmarshal(line, &e); err != nil {
		return peeked{}, err
	}
	return peeked{recv: e.Recv, id: e.ID, drop: e.Drop}, nil
}

// idBits is a set of message ids, which the network numbers densely
// from 0: a bit each up to 2^28, a map beyond (or below 0).
type idBits struct {
	bits   []uint64
	sparse map[int64]bool
}

func (s *idBits) add(id int64) {
	if id >= 0 && id < 1<<28 {
		w := int(id / 64)
		if w >= len(s.bits) {
			s.bits = slices.Grow(s.bits, w+1-len(s.bits))[:w+1]
		}
		s.bits[w] |= 1 << (id % 64)
		return
	}
	if s.sparse == nil {
		s.sparse = map[int64]bool{}
	}
	s.sparse[id] = true
}

func (s *idBits) has(id int64) bool {
	if id >= 0 && id < 1<<28 {
		w := int(id / 64)
		return w < len(s.bits) && s.bits[w]&(1<<(id%64)) != 0
	}
	return s.sparse[id]
}
