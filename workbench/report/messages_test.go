package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
)

// svgSummary is what a test reads back out of an SVG: it fails the test
// if the document is not well-formed XML.
type svgSummary struct {
	labels  []string // endpoint names at the top, in order
	arrows  []string // stroke colour of each message line
	titles  []string
	texts   []string
	hasNote bool
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
			if el.Name.Local == "line" && len(stack) >= 2 && attr(stack[len(stack)-2], "class") == "msg" {
				s.arrows = append(s.arrows, attr(el, "stroke"))
			}
			if el.Name.Local == "g" && attr(el, "class") == "truncated" {
				s.hasNote = true
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
			case top.Name.Local == "text" && attr(top, "class") == "node":
				s.labels = append(s.labels, text)
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
	if err := WriteMessagesSVG(&buf, j, []string{"n0", "n1"}); err != nil {
		t.Fatal(err)
	}
	s := parseSVG(t, buf.Bytes())
	if got := strings.Join(s.labels, " "); got != "c2 c10 n0 n1 lin-kv" {
		t.Errorf("columns %q, want clients numerically, servers in order, services last", got)
	}
	want := []string{colourClient, colourClient, colourServer, colourError, colourClient, colourClient, colourServer, colourServer}
	if fmt.Sprint(s.arrows) != fmt.Sprint(want) {
		t.Errorf("arrow colours %v, want %v", s.arrows, want)
	}
	if len(s.titles) != 8 || s.titles[0] != `c10 → n1 {"type":"echo","echo":"<b>&amp;\"","msg_id":1}` {
		t.Errorf("titles %q", s.titles)
	}
	if !strings.Contains(strings.Join(s.texts, "|"), "error not ready") {
		t.Errorf("error label missing from %q", s.texts)
	}
	if s.hasNote {
		t.Error("a short journal was marked truncated")
	}
}

func TestMessagesSVGTruncates(t *testing.T) {
	var j []JournalEntry
	for i := int64(0); len(j) < MaxDiagramEvents+6; i += 2 {
		j = append(j, exchange(i, "c1", "n0", `{"type":"echo","echo":1,"msg_id":1}`, `{"type":"echo_ok","echo":1,"in_reply_to":1}`)...)
	}
	var buf bytes.Buffer
	if err := WriteMessagesSVG(&buf, j, []string{"n0"}); err != nil {
		t.Fatal(err)
	}
	s := parseSVG(t, buf.Bytes())
	if !s.hasNote {
		t.Fatal("no truncation note")
	}
	if note := fmt.Sprintf("%d later network events not shown", len(j)-MaxDiagramEvents); !strings.Contains(strings.Join(s.texts, "|"), note) {
		t.Errorf("note %q missing", note)
	}
	if len(s.arrows) != MaxDiagramEvents/2 {
		t.Errorf("%d arrows drawn, want %d", len(s.arrows), MaxDiagramEvents/2)
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
		if err := WriteMessagesSVG(&buf, j, nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		parseSVG(t, buf.Bytes())
	}
}
