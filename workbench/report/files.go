package report

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// WriteResults writes the results map to results.edn, pretty-printed as
// Maelstrom prints it, and to results.json with the same structure
// (keywords as strings, key order kept).
func (s *Store) WriteResults(results edn.Map) error {
	pretty, err := edn.MarshalIndent(results)
	if err != nil {
		return fmt.Errorf("report: results.edn: %w", err)
	}
	js, err := edn.MarshalJSONIndent(results, "", "  ")
	if err != nil {
		return fmt.Errorf("report: results.json: %w", err)
	}
	if err := s.WriteFile("results.edn", writeBytes(pretty, '\n')); err != nil {
		return err
	}
	return s.WriteFile("results.json", writeBytes(js, '\n'))
}

func writeBytes(b []byte, end byte) func(io.Writer) error {
	return func(w io.Writer) error {
		if _, err := w.Write(b); err != nil {
			return err
		}
		_, err := w.Write([]byte{end})
		return err
	}
}

// WriteHistory writes history.edn, one op per line as an EDN map, and
// history.txt, Jepsen's condensed form: process, type, f and value (and
// error, when there is one) printed as EDN and separated by tabs, e.g.
//
//	0	:invoke	:echo	"Please echo 29"
//	:nemesis	:info	:start-partition	:majority
func (s *Store) WriteHistory(ops []history.Op) error {
	err := s.WriteFile("history.edn", func(w io.Writer) error {
		for _, op := range ops {
			b, err := edn.Marshal(op.EDN())
			if err != nil {
				return fmt.Errorf("op %d: %w", op.Index, err)
			}
			if _, err := w.Write(append(b, '\n')); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.WriteFile("history.txt", func(w io.Writer) error {
		for _, op := range ops {
			line, err := HistoryLine(op)
			if err != nil {
				return err
			}
			if _, err := io.WriteString(w, line+"\n"); err != nil {
				return err
			}
		}
		return nil
	})
}

// HistoryLine is one line of history.txt (without the newline).
func HistoryLine(op history.Op) (string, error) {
	var process any = op.Process
	if op.Process == history.NemesisProcess {
		process = edn.Keyword("nemesis")
	}
	fields := []any{process, edn.Keyword(op.Type.String()), edn.Keyword(op.F), op.Value}
	if op.Error != nil {
		fields = append(fields, op.Error)
	}
	line := make([]byte, 0, 64)
	for i, f := range fields {
		b, err := edn.Marshal(f)
		if err != nil {
			return "", fmt.Errorf("op %d: %w", op.Index, err)
		}
		if i > 0 {
			line = append(line, '\t')
		}
		line = append(line, b...)
	}
	return string(line), nil
}

// WriteTest writes test.json: the test's configuration as the runner
// describes it, through encoding/json.
func (s *Store) WriteTest(cfg any) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("report: test.json: %w", err)
	}
	return s.WriteFile("test.json", writeBytes(b, '\n'))
}

// JournalEntry is one event of the network journal: a message sent or
// delivered. The runner converts the network's events to these.
type JournalEntry struct {
	Recv bool            `json:"recv"` // delivered (true) or sent (false)
	Time int64           `json:"time"` // nanoseconds since the network started
	ID   int64           `json:"id"`   // the network-wide message id
	Src  string          `json:"src"`
	Dest string          `json:"dest"`
	Body json.RawMessage `json:"body"` // the message body as JSON
	// Drop, when set, says why the message was lost instead (see
	// netsim.Event.Drop): this entry is neither a send nor a delivery.
	Drop string `json:"drop,omitempty"`
}

// OpenJournal creates the test's net-journal.jsonl.gz. nodeOrder is the
// order of the nodes' lanes in the diagram. Close the writer before
// WriteMessagesSVG.
func (s *Store) OpenJournal(nodeOrder []string) (*JournalWriter, error) {
	return openJournal(s.dir, nodeOrder)
}

// WriteJournal writes a whole journal at once to net-journal.jsonl.gz
// and messages.json (see OpenJournal); a running test streams its
// journal through a JournalWriter instead.
func (s *Store) WriteJournal(entries []JournalEntry, nodeOrder []string) error {
	j, err := s.OpenJournal(nodeOrder)
	if err != nil {
		return err
	}
	for _, e := range entries {
		j.Add(e)
	}
	return j.Close()
}

// WriteMessagesSVG draws messages.svg, the name Maelstrom uses, from the
// journal file written before (see OpenJournal): the Lamport diagram of
// its first DiagramEventsPerWindow events, with the notes taken from the
// history (see DiagramNotesOf; at most one, none for a journal alone),
// which it adds to messages.json for the later windows.
// Those, messages-001.svg, messages-002.svg, ..., are not written:
// `glomers serve` draws each from the journal when it is asked for, so a
// long run does not leave hundreds of diagrams behind. The run's
// index.html lists every window with its time span.
func (s *Store) WriteMessagesSVG(notes ...DiagramNotes) error {
	root, err := openRoot(s.dir)
	if err != nil {
		return fmt.Errorf("report: messages.svg: %w", err)
	}
	defer root.Close()
	x, err := ReadMessagesIndex(root)
	if err != nil {
		return fmt.Errorf("report: messages.svg: %w", err)
	}
	if len(notes) > 0 {
		x.DiagramNotes = notes[0]
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("report: %s: %w", MessagesIndexFile, err)
		}
		if err := s.WriteFile(MessagesIndexFile, writeBytes(b, '\n')); err != nil {
			return err
		}
	}
	if err := s.WriteFile("messages.svg", func(w io.Writer) error {
		return WriteMessagesFromJournal(w, root, 0)
	}); err != nil {
		return err
	}
	s.mu.Lock()
	s.messages = x
	s.mu.Unlock()
	return nil
}

// WriteTimeline writes timeline.html (see WriteTimelineHTML), its
// columns grouped by the nodes and concurrency of the test's test.json
// (see WriteTest); without them, one column per process.
func (s *Store) WriteTimeline(ops []history.Op) error {
	var layout TimelineLayout
	if b, err := os.ReadFile(s.Path("test.json")); err == nil {
		// A test.json without the fields leaves the layout empty.
		_ = json.Unmarshal(b, &layout)
	}
	return s.WriteFile("timeline.html", func(w io.Writer) error {
		return WriteTimelineHTML(w, ops, layout)
	})
}

// WritePlots writes latency-raw.png, latency-quantiles.png and rate.png
// with the nemesis faults found in ops shaded (see the package function
// WritePlots). A workload's own plots (kafka's realtime-lag.png) are
// written by the workload (workload.FileWriter).
func (s *Store) WritePlots(ops []history.Op) error {
	return WritePlots(s.dir, ops, FaultIntervals(ops))
}
