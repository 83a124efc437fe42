package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
)

// svgGroup is one <g> of a diagram with a class: a message, a drop, a
// fault.
type svgGroup struct {
	class, values, drop, title string
	lines, rects               []map[string]float64
	texts                      []string
	cross                      bool // holds a path: a drop's ×
}

// svgGroups reads back every classed group of a diagram.
func svgGroups(t *testing.T, doc []byte) []svgGroup {
	t.Helper()
	var out []svgGroup
	var cur *svgGroup
	var inTitle, inText bool
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "g":
				if c := attr(el, "class"); c != "" && c != "hdr" {
					out = append(out, svgGroup{class: c, values: attr(el, "data-v"), drop: attr(el, "data-drop")})
					cur = &out[len(out)-1]
				}
			case "line", "rect":
				if cur != nil {
					m := map[string]float64{}
					for _, a := range el.Attr {
						m[a.Name.Local], _ = strconv.ParseFloat(a.Value, 64)
					}
					if el.Name.Local == "line" {
						cur.lines = append(cur.lines, m)
					} else {
						cur.rects = append(cur.rects, m)
					}
				}
			case "path":
				if cur != nil {
					cur.cross = true
				}
			case "title":
				inTitle = true
			case "text":
				inText = true
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "g":
				cur = nil
			case "title":
				inTitle = false
			case "text":
				inText = false
			}
		case xml.CharData:
			switch {
			case cur != nil && inTitle:
				cur.title += string(el)
			case cur != nil && inText:
				cur.texts = append(cur.texts, string(el))
			}
		}
	}
}

func groupsOf(gs []svgGroup, class string) []svgGroup {
	var out []svgGroup
	for _, g := range gs {
		if slices.Contains(strings.Fields(g.class), class) {
			out = append(out, g)
		}
	}
	return out
}

// dropJournal is a broadcast of 7 whose gossip is lost every way a
// message can be, then a read; times are event index × 1 ms.
func dropJournal() []JournalEntry {
	gossip := func(v int) json.RawMessage {
		return json.RawMessage(`{"type":"gossip","message":` + strconv.Itoa(v) + `}`)
	}
	j := exchange(0, "c1", "n0", `{"type":"broadcast","message":7,"msg_id":1}`, `{"type":"broadcast_ok","in_reply_to":1}`)[:2]
	j = append(j,
		JournalEntry{ID: 2, Src: "n0", Dest: "n1", Body: gossip(7)},                              // 2
		JournalEntry{ID: 3, Src: "n0", Dest: "n2", Body: gossip(7)},                              // 3
		JournalEntry{ID: 4, Src: "n0", Dest: "n3", Body: gossip(7)},                              // 4
		JournalEntry{ID: 4, Src: "n0", Dest: "n3", Body: gossip(7), Drop: netsim.DropOverflow},   // 5
		JournalEntry{ID: 2, Src: "n0", Dest: "n1", Body: gossip(7), Drop: netsim.DropPartition},  // 6
		JournalEntry{ID: 3, Src: "n0", Dest: "n2", Body: gossip(7), Drop: netsim.DropDown},       // 7
		JournalEntry{ID: 5, Src: "n0", Dest: "n9", Body: gossip(7), Drop: netsim.DropNoSuchNode}, // 8
		JournalEntry{ID: 6, Src: "n0", Dest: "c7", Body: gossip(7), Drop: netsim.DropClosed},     // 9
		JournalEntry{ID: 7, Src: "n0", Dest: "n1", Body: gossip(8)},                              // 10
		JournalEntry{ID: 7, Src: "n0", Dest: "n1", Body: gossip(8), Drop: netsim.DropEnded},      // 11
	)
	j = append(j, exchange(8, "c2", "n1", `{"type":"read","msg_id":1}`, `{"type":"read_ok","messages":[],"in_reply_to":1}`)...)
	for i := range j {
		j[i].Time = int64(i) * int64(time.Millisecond)
	}
	return j
}

var dropNodes = []string{"n0", "n1", "n2", "n3"}

// dropFaults: n0 cut off from 2.4 ms to 6.4 ms, n2 killed from 6.8 ms on.
var dropFaults = []DiagramFault{
	{Kind: "partition", Start: 2_400_000, End: 6_400_000, Sides: "n0 | n1 n2 n3"},
	{Kind: "kill", Start: 6_800_000, End: -1, Nodes: []string{"n2"}},
}

func TestDiagramDrawsEveryDrop(t *testing.T) {
	j := dropJournal()
	var buf bytes.Buffer
	if err := WriteMessagesSVG(&buf, j, dropNodes, DiagramNotes{Faults: dropFaults}); err != nil {
		t.Fatal(err)
	}
	gs := svgGroups(t, buf.Bytes())
	drops := groupsOf(gs, "drop")
	want := map[string]string{
		"partition": "partition", "down": "node down", "overflow": "queue full", "ended": "still in flight at the end",
		"no-such-node": "no such node", "closed": "client closed",
	}
	if len(drops) != len(want) {
		t.Fatalf("%d drop arrows, want %d: %+v", len(drops), len(want), drops)
	}
	c := newCanvas(diagramLanes(j, dropNodes), len(j))
	for _, d := range drops {
		why, ok := want[d.drop]
		if !ok {
			t.Errorf("drop arrow for %q", d.drop)
			continue
		}
		delete(want, d.drop)
		if !strings.Contains(d.title, "never arrived ("+why+")") {
			t.Errorf("%s: title %q does not say why", d.drop, d.title)
		}
		if len(d.texts) != 1 || !strings.HasPrefix(d.texts[0], "× ") || !strings.Contains(d.texts[0], why) {
			t.Errorf("%s: label %q", d.drop, d.texts)
		}
		if !d.cross || len(d.lines) != 1 || strings.Contains(d.class, "cont") {
			t.Errorf("%s: not a whole arrow ending in ×: %+v", d.drop, d)
		}
		if !strings.Contains(d.values, " 7 ") && !strings.Contains(d.values, " 8 ") {
			t.Errorf("%s: carries no value to follow: %q", d.drop, d.values)
		}
		line := d.lines[0]
		switch d.drop {
		case "partition": // sent at step 2, dropped at step 6, n0 → n1
			if line["y1"] != c.y(2) || line["y2"] != c.y(6) || line["x1"] != c.laneX("n0") || line["x2"] != c.laneX("n1") {
				t.Errorf("partition drop drawn at %v", line)
			}
		case "overflow": // lost as it was sent
			if line["y1"] != c.y(4) || line["y2"] != c.y(5) {
				t.Errorf("overflow drop drawn at %v", line)
			}
		case "no-such-node": // a stub past the last lane
			if line["y1"] != c.y(8) || line["y2"] != c.y(8) || line["x2"] <= c.lanesRight {
				t.Errorf("no-such-node drop drawn at %v, lanes end at %v", line, c.lanesRight)
			}
			if !strings.Contains(d.texts[0], "n9") {
				t.Errorf("no-such-node label %q does not name the node", d.texts[0])
			}
		case "closed":
			if line["x2"] != c.laneX(clientsLane) {
				t.Errorf("drop to a closed client drawn at %v", line)
			}
		}
	}
	if s := parseSVG(t, buf.Bytes()); slices.Contains(s.labels, "n9") || !slices.Equal(s.labels, []string{"clients", "n0", "n1", "n2", "n3"}) {
		t.Errorf("lanes %q", s.labels)
	}
	// The delivered messages are drawn as before, none of them red.
	if msgs := len(groupsOf(gs, "msg")) - len(drops); msgs != 3 {
		t.Errorf("%d delivered messages drawn, want 3", msgs)
	}
}

func TestDiagramShadesFaults(t *testing.T) {
	j := dropJournal()
	var buf bytes.Buffer
	if err := WriteMessagesSVG(&buf, j, dropNodes, DiagramNotes{Faults: dropFaults}); err != nil {
		t.Fatal(err)
	}
	gs := svgGroups(t, buf.Bytes())
	c := newCanvas(diagramLanes(j, dropNodes), len(j))
	var band, lane []map[string]float64
	for _, g := range groupsOf(gs, "partition") {
		if g.title != "partition n0 | n1 n2 n3, 0.002 s – 0.006 s" {
			t.Errorf("partition titled %q", g.title)
		}
		band = append(band, g.rects...)
		for _, text := range g.texts {
			if !strings.Contains(text, "n0 | n1 n2 n3") {
				t.Errorf("partition labelled %q", text)
			}
		}
	}
	for _, g := range groupsOf(gs, "kill") {
		lane = append(lane, g.rects...)
		if len(g.rects) == 0 && !slices.Contains(g.texts, "killed") {
			t.Errorf("kill labelled %q", g.texts)
		}
	}
	// The band runs from half a step above event 3 (the first at or
	// after 2.4 ms) to half a step above event 7, across every lane.
	if len(band) != 1 || band[0]["y"] != c.y(3)-diagramStep/2 || band[0]["y"]+band[0]["height"] != c.y(7)-diagramStep/2 ||
		band[0]["x"] > c.laneX(clientsLane) || band[0]["x"]+band[0]["width"] < c.lanesRight {
		t.Errorf("partition band %v", band)
	}
	// The kill shades n2's lane from event 7 to the bottom.
	if len(lane) != 1 || lane[0]["y"] != c.y(7)-diagramStep/2 || lane[0]["y"]+lane[0]["height"] != c.bottom ||
		lane[0]["x"] > c.laneX("n2") || lane[0]["x"]+lane[0]["width"] < c.laneX("n2") || lane[0]["x"] < c.laneX("n1") {
		t.Errorf("kill shading %v", lane)
	}

	// A fault entirely outside the window is not drawn.
	buf.Reset()
	late := []DiagramFault{{Kind: "partition", Start: int64(time.Second), End: 2 * int64(time.Second), Sides: "n0 | n1"}}
	if err := WriteMessagesSVG(&buf, j, dropNodes, DiagramNotes{Faults: late}); err != nil {
		t.Fatal(err)
	}
	if f := groupsOf(svgGroups(t, buf.Bytes()), "fault"); len(f) != 0 {
		t.Errorf("a fault after the window is drawn: %+v", f)
	}
}

func TestDiagramOfAValidRunHasNoDrops(t *testing.T) {
	var j []JournalEntry
	for i := int64(0); i < 40; i += 2 {
		j = append(j, exchange(i, "c1", "n0", `{"type":"broadcast","message":3,"msg_id":1}`, `{"type":"broadcast_ok","in_reply_to":1}`)...)
	}
	var buf bytes.Buffer
	if err := WriteMessagesSVG(&buf, j, []string{"n0"}, DiagramNotes{}); err != nil {
		t.Fatal(err)
	}
	gs := svgGroups(t, buf.Bytes())
	if d := groupsOf(gs, "drop"); len(d) != 0 {
		t.Errorf("a valid run draws %d drop arrows", len(d))
	}
	if n := len(groupsOf(gs, "msg")); n != 40 {
		t.Errorf("%d arrows, want 40", n)
	}
	if slices.Contains(parseSVG(t, buf.Bytes()).arrows, colourDrop) {
		t.Error("a valid run's diagram has a red arrow")
	}
}

// A drop whose send is in one window and its loss in the next runs
// dashed off the first to the bottom, and into the second from the top,
// ending in ×; drawn alike from memory and from the journal file, where
// messages.json keeps the faults for the windows drawn later.
func TestDropsCrossWindows(t *testing.T) {
	var j []JournalEntry
	for i := int64(0); len(j) < DiagramEventsPerWindow+20; i += 2 {
		j = append(j, exchange(i, "c1", "n0", `{"type":"echo","echo":1,"msg_id":1}`, `{"type":"echo_ok","echo":1,"in_reply_to":1}`)...)
	}
	lost := JournalEntry{ID: 1 << 20, Src: "n0", Dest: "n1", Body: json.RawMessage(`{"type":"gossip","message":42}`)}
	j = slices.Insert(j, DiagramEventsPerWindow-5, lost)
	lost.Drop = netsim.DropPartition
	j = slices.Insert(j, DiagramEventsPerWindow+5, lost)
	for i := range j {
		j[i].Time = int64(i) * int64(time.Millisecond)
	}
	notes := DiagramNotes{Faults: []DiagramFault{{Kind: "partition", Start: int64(900 * time.Millisecond), End: -1, Sides: "n0 | n1"}}, Offset: 3e6}
	s := newTestStore(t, t.TempDir(), "broadcast", start)
	if err := s.WriteJournal(j, []string{"n0", "n1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteMessagesSVG(notes); err != nil {
		t.Fatal(err)
	}
	s.Close()
	root, err := openRoot(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	x, err := ReadMessagesIndex(root)
	if err != nil || len(x.Faults) != 1 || x.Faults[0].Sides != "n0 | n1" || x.Offset != notes.Offset {
		t.Fatalf("messages.json faults %+v, %v", x, err)
	}
	for i, win := range MessageWindows(j) {
		var fromFile, fromMemory bytes.Buffer
		if err := WriteMessagesFromJournal(&fromFile, root, i); err != nil {
			t.Fatal(err)
		}
		if err := WriteMessagesWindow(&fromMemory, j, []string{"n0", "n1"}, notes, win); err != nil {
			t.Fatal(err)
		}
		if fromFile.String() != fromMemory.String() {
			t.Errorf("window %d drawn from the journal file differs from the one drawn from memory", i)
		}
		gs := svgGroups(t, fromFile.Bytes())
		drops := groupsOf(gs, "drop")
		if len(drops) != 1 || !strings.Contains(drops[0].class, "cont") || !strings.Contains(drops[0].values, " 42 ") {
			t.Fatalf("window %d: drops %+v", i, drops)
		}
		c := newCanvas(x.Lanes, win.End-win.First)
		line := drops[0].lines[0]
		switch i {
		case 0:
			if drops[0].cross || line["y2"] != c.bottom || !strings.Contains(drops[0].title, "after this window") {
				t.Errorf("window 0: the drop runs to %v: %+v", line, drops[0])
			}
		case 1:
			if !drops[0].cross || line["y1"] != c.top || line["y2"] != c.y(5) {
				t.Errorf("window 1: the drop runs %v", line)
			}
		}
		if p := groupsOf(gs, "partition"); len(p) == 0 {
			t.Errorf("window %d shades no partition", i)
		}
	}
}

func TestPeekEvent(t *testing.T) {
	for _, e := range []JournalEntry{
		{ID: 12, Src: "n0", Dest: "n1", Body: json.RawMessage(`{"type":"x","drop":"y"}`)},
		{ID: 12, Recv: true, Src: "n0", Dest: "n1", Body: json.RawMessage(`{"type":"x"}`)},
		{ID: 12, Src: "n0", Dest: "n1", Body: json.RawMessage(`{"type":"x"}`), Drop: netsim.DropPartition},
		{ID: 13, Src: "n0", Dest: "n9", Drop: netsim.DropNoSuchNode},
	} {
		line := bytes.TrimSpace(appendJournalLine(nil, e))
		for _, l := range [][]byte{line, []byte(strings.Replace(string(line), `{"recv":`, `{ "recv":`, 1))} {
			p, err := peekEvent(l)
			if err != nil || p.recv != e.Recv || p.id != e.ID || p.drop != e.Drop {
				t.Errorf("peekEvent(%s) = %+v, %v", l, p, err)
			}
		}
	}
}

func TestDiagramFaultsFromHistory(t *testing.T) {
	nem := func(f string, at int64, v any) history.Op {
		return history.Op{Process: history.NemesisProcess, F: f, Type: history.Info, Time: at, Value: v}
	}
	grudge := edn.Vector{edn.Keyword("isolated"), edn.Map{
		{Key: "n0", Val: edn.Set{"n2"}}, {Key: "n1", Val: edn.Set{"n2"}}, {Key: "n2", Val: edn.Set{"n0", "n1"}},
	}}
	ops := []history.Op{
		nem("start-partition", 100, nil), nem("start-partition", 110, grudge),
		nem("stop-partition", 500, nil), nem("stop-partition", 510, edn.Keyword("network-healed")),
		nem("kill", 600, nil), nem("kill", 610, edn.Vector{"n1"}),
	}
	notes := DiagramNotesOf(ops, time.Microsecond)
	got := notes.Faults
	if notes.Offset != 1000 {
		t.Errorf("offset %d, want 1000", notes.Offset)
	}
	want := []DiagramFault{
		{Kind: "partition", Start: 1110, End: 1510, Sides: "n0 n1 | n2"},
		{Kind: "kill", Start: 1610, End: -1, Nodes: []string{"n1"}},
	}
	if len(got) != len(want) {
		t.Fatalf("faults %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].Start != want[i].Start || got[i].End != want[i].End ||
			got[i].Sides != want[i].Sides || !slices.Equal(got[i].Nodes, want[i].Nodes) {
			t.Errorf("fault %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// The diagram gives times on the history's clock: the journal's, less
// the setup.
func TestDiagramTellsHistoryTime(t *testing.T) {
	j := dropJournal()
	notes := DiagramNotes{Faults: dropFaults, Offset: int64(2 * time.Millisecond)}
	var buf bytes.Buffer
	if err := WriteMessagesSVG(&buf, j, dropNodes, notes); err != nil {
		t.Fatal(err)
	}
	gs := svgGroups(t, buf.Bytes())
	// The partition from 2.4 ms to 6.4 ms on the journal's clock.
	p := groupsOf(gs, "partition")
	if len(p) == 0 {
		t.Error("no partition drawn")
	}
	for _, g := range p {
		if g.title != "partition n0 | n1 n2 n3, 0.000 s – 0.004 s" {
			t.Errorf("partition titled %q", g.title)
		}
	}
	s := parseSVG(t, buf.Bytes())
	if !slices.Contains(s.texts, "-0.002 s") {
		t.Errorf("the first event, 2 ms before the history's clock started, is not at -0.002 s: %q", s.texts)
	}
	if !strings.Contains(s.texts[0], "-0.002 s – 0.013 s") {
		t.Errorf("title %q", s.texts[0])
	}
}

func TestPartitionName(t *testing.T) {
	for sides, want := range map[string]string{
		"":             "partition",
		"n0 n1 | n2":   "partition n0 n1 | n2",
		"n0 | n1 | n2": "partition n0 | n1 | n2",
		"n0 n1 n2":     "partition cutting no link (n0 n1 n2)",
	} {
		if got := partitionName(sides); got != want {
			t.Errorf("partitionName(%q) = %q, want %q", sides, got, want)
		}
	}
}
