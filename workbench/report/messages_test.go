package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// svgSummary is what a test reads back out of an SVG: it fails the test
// if the document is not well-formed XML.
type svgSummary struct {
	labels []string // lane names of the first header row, in order
	rows   int      // header rows
	arrows []string // stroke colour of each message line
	cont   int      // arrows cut by the window's edge
	titles []string
	texts  []string
	width  int
}

func parseSVG(t *testing.T, doc []byte) svgSummary {
	t.Helper()
	var s svgSummary
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var stack []xml.StartElement
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v\n%s", err, doc)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			stack = append(stack, el)
			if el.Name.Local == "svg" {
				s.width, _ = strconv.Atoi(attr(el, "width"))
			}
			if el.Name.Local == "line" && len(stack) >= 2 && strings.HasPrefix(attr(stack[len(stack)-2], "class"), "msg") {
				s.arrows = append(s.arrows, attr(el, "stroke"))
				if attr(stack[len(stack)-2], "class") == "msg cont" {
					s.cont++
				}
			}
			if el.Name.Local == "g" && attr(el, "class") == "hdr" {
				s.rows++
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			top := stack[len(stack)-1]
			text := string(el)
			switch {
			case top.Name.Local == "title":
				s.titles = append(s.titles, text)
			case top.Name.Local == "text" && attr(top, "class") == "lane":
				if s.rows == 1 {
					s.labels = append(s.labels, text)
				}
			case top.Name.Local == "text":
				s.texts = append(s.texts, text)
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("SVG has unclosed elements")
	}
	return s
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// exchange is a request and its reply, as four journal events.
func exchange(id int64, a, b string, req, reply string) []JournalEntry {
	return []JournalEntry{
		{ID: id, Src: a, Dest: b, Body: json.RawMessage(req)},
		{ID: id, Recv: true, Src: a, Dest: b, Body: json.RawMessage(req)},
		{ID: id + 1, Src: b, Dest: a, Body: json.RawMessage(reply)},
		{ID: id + 1, Recv: true, Src: b, Dest: a, Body: json.RawMessage(reply)},
	}
}

func TestMessagesSVG(t *testing.T) {
	var j []JournalEntry
	j = append(j, exchange(0, "c10", "n1", `{"type":"echo","echo":"<b>&amp;\"","msg_id":1}`, `{"type":"echo_ok","echo":"<b>&amp;\"","in_reply_to":1}`)...)
	j = append(j, exchange(2, "n1", "n0", `{"type":"gossip","msg_id":2}`, `{"type":"error","code":11,"text":"not ready","in_reply_to":2}`)...)
	j = append(j, exchange(4, "c2", "n0", `{"type":"read","msg_id":1}`, `{"type":"read_ok","in_reply_to":1}`)...)
	j = append(j, exchange(6, "n0", "lin-kv", `{"type":"read","key":"k","msg_id":3}`, `{"type":"read_ok","value":1,"in_reply_to":3}`)...)
	// A message lost to a partition: sent, never delivered.
	j = append(j, JournalEntry{ID: 8, Src: "n0", Dest: "n1", Body: json.RawMessage(`{"type":"gossip"}`)})

	var buf bytes.Buffer
	if err := WriteMessagesSVG(&buf, j, []string{"n0", "n1"}, DiagramNotes{}); err != nil {
		t.Fatal(err)
	}
	s := parseSVG(t, buf.Bytes())
	if got := strings.Join(s.labels, " "); got != "clients n0 n1 lin-kv" {
		t.Errorf("lanes %q, want one clients lane, servers in order, services last", got)
	}
	want := []string{colourClient, colourClient, colourServer, colourError, colourClient, colourClient, colourServer, colourServer}
	if fmt.Sprint(s.arrows) != fmt.Sprint(want) {
		t.Errorf("arrow colours %v, want %v", s.arrows, want)
	}
	if len(s.titles) != 9 || s.titles[1] != `c10 → n1 {"type":"echo","echo":"<b>&amp;\"","msg_id":1}` {
		t.Errorf("titles %q", s.titles)
	}
	texts := strings.Join(s.texts, "|")
	for _, want := range []string{"error not ready", "c10: echo", "→c10: echo_ok", "c2: read", "events 1–17 of 17"} {
		if !strings.Contains(texts, want) {
			t.Errorf("text %q missing from %q", want, s.texts)
		}
	}
	if s.cont != 0 {
		t.Errorf("%d arrows cut in a journal that fits one window", s.cont)
	}
}

// TestMessagesWindowsLargeCluster draws a 25-node journal of 50,000
// events: every window must be a well-formed SVG of readable width, with
// the same lanes, headers every few dozen events, and the messages that
// cross a window's edge drawn in both windows.
func TestMessagesWindowsLargeCluster(t *testing.T) {
	nodes := testNodeIDs(25)
	var j []JournalEntry
	id := int64(0)
	for len(j) < 50000 {
		c := fmt.Sprintf("c%d", id%40)
		n := nodes[int(id)%len(nodes)]
		peer := nodes[(int(id)+7)%len(nodes)]
		// A client's broadcast, its reply, and a gossip delivered 30
		// events later, so some cross a window's edge.
		j = append(j, exchange(id, c, n, `{"type":"broadcast","message":1,"msg_id":1}`, `{"type":"broadcast_ok","in_reply_to":1}`)...)
		j = append(j, JournalEntry{ID: id + 2, Src: n, Dest: peer, Body: json.RawMessage(`{"type":"gossip","message":1}`)})
		id += 3
	}
	// Deliver each gossip 30 events after it was sent.
	var out []JournalEntry
	pending := map[int][]JournalEntry{}
	for i, e := range j {
		out = append(out, e)
		if !e.Recv && e.Src[0] == 'n' {
			r := e
			r.Recv = true
			pending[i+30] = append(pending[i+30], r)
		}
		out = append(out, pending[i]...)
	}
	j = out
	for i := range j {
		j[i].Time = int64(i) * int64(time.Millisecond)
	}
	windows := MessageWindows(j)
	if want := (len(j) + DiagramEventsPerWindow - 1) / DiagramEventsPerWindow; len(windows) != want {
		t.Fatalf("%d windows for %d events, want %d", len(windows), len(j), want)
	}
	if windows[3].File != "messages-003.svg" || windows[3].First != 3*DiagramEventsPerWindow || windows[len(windows)-1].End != len(j) {
		t.Errorf("windows %+v … %+v", windows[3], windows[len(windows)-1])
	}
	var firstLanes string
	d := newDiagram(j, nodes)
	for i, win := range windows {
		var buf bytes.Buffer
		if err := d.write(&buf, win); err != nil {
			t.Fatal(err)
		}
		s := parseSVG(t, buf.Bytes())
		lanes := strings.Join(s.labels, " ")
		if i == 0 {
			firstLanes = lanes
			if !strings.HasPrefix(lanes, "clients n0 n1 n2 ") || len(s.labels) != 26 {
				t.Fatalf("lanes %q, want clients and the 25 nodes", lanes)
			}
		} else if lanes != firstLanes {
			t.Fatalf("window %d has lanes %q, window 0 %q", i, lanes, firstLanes)
		}
		if s.width > 26*laneWidth+timeGutter+stubLength+faultMargin || laneWidth < 60 {
			t.Errorf("window %d is %d px wide", i, s.width)
		}
		events := win.End - win.First
		if s.rows < events/labelEvery {
			t.Errorf("window %d: %d header rows for %d events", i, s.rows, events)
		}
		if i > 0 && i < len(windows)-1 && s.cont == 0 {
			t.Errorf("window %d draws no message crossing its edges", i)
		}
	}
}

// testNodeIDs returns n0 … n(count-1).
func testNodeIDs(count int) []string {
	ids := make([]string, count)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i)
	}
	return ids
}

func TestMessagesWindowCrossingArrows(t *testing.T) {
	// 600 request/reply pairs, plus one message sent in the first
	// window and delivered in the second.
	var j []JournalEntry
	for i := int64(0); len(j) < DiagramEventsPerWindow+200; i += 2 {
		j = append(j, exchange(i, "c1", "n0", `{"type":"echo","echo":1,"msg_id":1}`, `{"type":"echo_ok","echo":1,"in_reply_to":1}`)...)
		if len(j) == 500 {
			j = append(j, JournalEntry{ID: 1 << 40, Src: "n0", Dest: "n1", Body: json.RawMessage(`{"type":"slow"}`)})
		}
	}
	j = append(j, JournalEntry{ID: 1 << 40, Recv: true, Src: "n0", Dest: "n1", Body: json.RawMessage(`{"type":"slow"}`)})
	windows := MessageWindows(j)
	if len(windows) != 2 {
		t.Fatalf("%d windows", len(windows))
	}
	for i, win := range windows {
		var buf bytes.Buffer
		if err := WriteMessagesWindow(&buf, j, []string{"n0", "n1"}, DiagramNotes{}, win); err != nil {
			t.Fatal(err)
		}
		s := parseSVG(t, buf.Bytes())
		if s.cont < 1 {
			t.Errorf("window %d: the slow message is not drawn across the edge", i)
		}
		slow := 0
		for _, title := range s.titles {
			if strings.Contains(title, `"slow"`) {
				slow++
			}
		}
		if slow != 1 {
			t.Errorf("window %d shows the slow message %d times", i, slow)
		}
	}
}

func TestMessagesSVGEmptyAndOdd(t *testing.T) {
	for name, j := range map[string][]JournalEntry{
		"empty":              nil,
		"recv without send":  {{ID: 5, Recv: true, Src: "n0", Dest: "n1", Body: json.RawMessage(`{}`)}},
		"body not an object": exchange(0, "n0", "n1", `[1,2]`, `"\u0001"`),
		"control characters": exchange(0, "n0", "n1", `{"type":"x\u0001y"}`, `{"type":"ok"}`),
	} {
		var buf bytes.Buffer
		if err := WriteMessagesSVG(&buf, j, nil, DiagramNotes{}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		parseSVG(t, buf.Bytes())
	}
}

func TestStoreWritesMessageWindows(t *testing.T) {
	var j []JournalEntry
	for i := int64(0); len(j) < 2*DiagramEventsPerWindow+4; i += 2 {
		j = append(j, exchange(i, "c1", "n0", `{"type":"echo","echo":1,"msg_id":1}`, `{"type":"echo_ok","echo":1,"in_reply_to":1}`)...)
	}
	// A message in flight across the first window's edge.
	j = slices.Insert(j, 990, JournalEntry{ID: 1 << 20, Src: "n0", Dest: "lin-kv", Body: json.RawMessage(`{"type":"read"}`)})
	j = slices.Insert(j, 1201, JournalEntry{ID: 1 << 20, Recv: true, Src: "n0", Dest: "lin-kv", Body: json.RawMessage(`{"type":"read"}`)})
	for i := range j {
		j[i].Time = int64(i) * 1000
	}
	s := newTestStore(t, t.TempDir(), "echo", start)
	if err := s.WriteJournal(j, []string{"n0"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteMessagesSVG(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Only the first window is a file; every window drawn from the
	// journal file is the one drawn from memory.
	if _, err := os.Stat(s.Path("messages-001.svg")); err == nil {
		t.Error("messages-001.svg was written")
	}
	root, err := openRoot(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	windows := MessageWindows(j)
	for i, win := range windows {
		var fromFile, fromMemory bytes.Buffer
		if err := WriteMessagesFromJournal(&fromFile, root, i); err != nil {
			t.Fatal(err)
		}
		if err := WriteMessagesWindow(&fromMemory, j, []string{"n0"}, DiagramNotes{}, win); err != nil {
			t.Fatal(err)
		}
		if fromFile.String() != fromMemory.String() {
			t.Errorf("window %d drawn from the journal file differs from the one drawn from memory", i)
		}
		if i == 0 && fromFile.String() != readFile(t, s.Path("messages.svg")) {
			t.Error("messages.svg is not the first window")
		}
		if parsed := parseSVG(t, fromFile.Bytes()); i < 2 && parsed.cont == 0 {
			t.Errorf("window %d does not draw the message crossing its edge", i)
		}
	}
	if err := WriteMessagesFromJournal(io.Discard, root, len(windows)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("window past the end: %v", err)
	}
	last := windows[len(windows)-1]
	if !strings.Contains(last.Label(), fmt.Sprintf("events %d–%d of %d", 2*DiagramEventsPerWindow+1, len(j), len(j))) {
		t.Errorf("last window is labelled %q", last.Label())
	}
	page := readFile(t, s.Path("index.html"))
	for _, f := range []string{"messages.svg", "messages-001.svg", "messages-002.svg"} {
		if !strings.Contains(page, `href="`+f+`"`) {
			t.Errorf("index.html does not link %s", f)
		}
	}

	// A short journal: messages.svg alone.
	s = newTestStore(t, t.TempDir(), "echo", start)
	if err := s.WriteJournal(j[:8], []string{"n0"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteMessagesSVG(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	page = readFile(t, s.Path("index.html"))
	if !strings.Contains(page, `href="messages.svg"`) || strings.Contains(page, "messages-001.svg") {
		t.Error("index.html does not link messages.svg alone")
	}
}

func TestBodyValues(t *testing.T) {
	for body, want := range map[string]string{
		`{"type":"broadcast","message":17,"msg_id":3}`:                         "17",
		`{"type":"echo","echo":"Please echo  35","msg_id":1}`:                  "Please·echo·35",
		`{"type":"gossip","values":[4,5,4],"from":"n1","in_reply_to":2}`:       "n1 4 5",
		`{"type":"read_ok","messages":[],"in_reply_to":9}`:                     "",
		`{"type":"txn","txn":[["r",1,null],["append",1,true]],"msg_id":1}`:     "r 1 append",
		`{"type":"cas","key":"k","from":1.5,"to":-2,"create_if_not_exists":1}`: "1 1.5 k -2",
	} {
		parsed, _ := parseBody(json.RawMessage(body))
		if got := strings.Join(bodyValues(parsed), " "); got != want {
			t.Errorf("bodyValues(%s) = %q, want %q", body, got, want)
		}
	}
	var many []string
	for i := range 100 {
		many = append(many, strconv.Itoa(i))
	}
	parsed, _ := parseBody(json.RawMessage(`{"type":"read_ok","messages":[` + strings.Join(many, ",") + `]}`))
	if got := bodyValues(parsed); len(got) != maxValues || got[0] != "0" {
		t.Errorf("a 100-value reply records %d values from %q", len(got), got[0])
	}
	// Each arrow carries its values for the diagram's follow script.
	var buf bytes.Buffer
	if err := WriteMessagesSVG(&buf, exchange(0, "c1", "n0", `{"type":"broadcast","message":17,"msg_id":1}`, `{"type":"broadcast_ok","in_reply_to":1}`), []string{"n0"}, DiagramNotes{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<g class="msg" data-v=" 17 ">`, `<g class="msg" data-v="  ">`, `<script>`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("diagram lacks %s", want)
		}
	}
}
