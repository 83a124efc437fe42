package report

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/glomers/glomers/workbench/netsim"
)

// ReadJournal calls yield with each event of the journal file in dir, in
// the order the network journalled them, until yield returns false. The
// truncation line, when the file has one, ends the events. It reads the
// file once, keeping one line in memory at a time.
func ReadJournal(dir string, yield func(JournalEntry) bool) error {
	f, err := os.Open(filepath.Join(dir, JournalFile))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	err = eachJournalLine(f, func(i int, line []byte) (bool, error) {
		e, ok := parseJournalLine(line)
		if !ok {
			if err := json.Unmarshal(line, &e); err != nil {
				return false, fmt.Errorf("event %d: %w", i, err)
			}
		}
		return yield(e), nil
	})
	if err != nil {
		return fmt.Errorf("report: %s: %w", JournalFile, err)
	}
	return nil
}

// eachJournalLine calls fn with each event line of the gzipped journal
// r, numbered from 0, up to the line that says the journal was truncated
// (see JournalWriter), until fn returns false or an error.
func eachJournalLine(r io.Reader, fn func(i int, line []byte) (bool, error)) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	defer gz.Close()
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 0, 64<<10), maxJournalLine)
	for i := 0; sc.Scan(); i++ {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte(`{"truncated"`)) {
			return nil
		}
		if more, err := fn(i, line); err != nil || !more {
			return err
		}
	}
	return sc.Err()
}

// ReadJournalEvents is ReadJournal giving each entry back as the
// network's event it was written from (see netsim.Event).
func ReadJournalEvents(dir string, yield func(netsim.Event) bool) error {
	return ReadJournal(dir, func(e JournalEntry) bool {
		return yield(netsim.Event{Recv: e.Recv, Time: e.Time, Drop: e.Drop,
			Msg: &netsim.Message{ID: e.ID, Src: e.Src, Dest: e.Dest, Body: e.Body}})
	})
}

// parseJournalLine reads a line in the shape appendJournalLine writes,
// {"recv":B,"time":N,"id":N,"src":"S","dest":"D","body":J} with
// ,"drop":"R" before the closing brace for a drop, without decoding the
// body, which stays raw (a copy, as the line's buffer is reused). It is
// some ten times faster than encoding/json on a journal; ok is false for
// a line of any other shape (an id with an escape in it, a hand-written
// file), which the caller decodes with encoding/json instead.
func parseJournalLine(line []byte) (e JournalEntry, ok bool) {
	var rest []byte
	if e.Recv, e.Time, e.ID, rest, ok = journalHead(line); !ok {
		return e, false
	}
	if e.Src, rest, ok = stringField(rest, `"src":`); !ok {
		return e, false
	}
	if e.Dest, rest, ok = stringField(rest, `"dest":`); !ok {
		return e, false
	}
	body, ok := bytes.CutPrefix(rest, []byte(`"body":`))
	if !ok || len(body) < 2 || body[len(body)-1] != '}' {
		return e, false
	}
	if body, e.Drop, ok = splitDrop(body[:len(body)-1]); !ok {
		return e, false
	}
	e.Body = bytes.Clone(body)
	return e, true
}

// journalHead reads the start every line appendJournalLine writes has,
// {"recv":B,"time":N,"id":N, and returns what follows it.
func journalHead(line []byte) (recv bool, time, id int64, rest []byte, ok bool) {
	rest, ok = bytes.CutPrefix(line, []byte(`{"recv":`))
	switch {
	case !ok:
		return false, 0, 0, nil, false
	case bytes.HasPrefix(rest, []byte("true,")):
		recv, rest = true, rest[len("true,"):]
	case bytes.HasPrefix(rest, []byte("false,")):
		rest = rest[len("false,"):]
	default:
		return false, 0, 0, nil, false
	}
	if time, rest, ok = intField(rest, `"time":`); !ok {
		return false, 0, 0, nil, false
	}
	if id, rest, ok = intField(rest, `"id":`); !ok {
		return false, 0, 0, nil, false
	}
	return recv, time, id, rest, true
}

// dropKey starts the field appendJournalLine ends a drop's line with.
var dropKey = []byte(`,"drop":"`)

// splitDrop takes a line appendJournalLine wrote, less its closing
// brace, and splits off the drop's reason that ends it, if it has one.
// A body's own "drop" key cannot end the line this way, as the body's
// closing brace (or, for a string, its closing quote) would follow it;
// ok is false for a reason that is not a plain word (lower-case letters
// and dashes), which this bench never writes: the caller then decodes
// the line with encoding/json.
func splitDrop(b []byte) (rest []byte, drop string, ok bool) {
	i := bytes.LastIndex(b, dropKey)
	if i < 0 {
		return b, "", true
	}
	reason := b[i+len(dropKey):]
	n := len(reason)
	if n == 0 || reason[n-1] != '"' {
		return b, "", true // the key is inside the body
	}
	if !plainWord(reason[:n-1]) {
		return nil, "", false
	}
	return b[:i], string(reason[:n-1]), true
}

// intField reads "key":N, from the start of b.
func intField(b []byte, key string) (int64, []byte, bool) {
	b, ok := bytes.CutPrefix(b, []byte(key))
	end := bytes.IndexByte(b, ',')
	if !ok || end <= 0 {
		return 0, nil, false
	}
	n, err := strconv.ParseInt(string(b[:end]), 10, 64)
	return n, b[end+1:], err == nil
}

// stringField reads "key":"S", from the start of b, for an S without
// escapes.
func stringField(b []byte, key string) (string, []byte, bool) {
	b, ok := bytes.CutPrefix(b, []byte(key+`"`))
	end := bytes.IndexByte(b, '"')
	if !ok || end < 0 || bytes.IndexByte(b[:end], '\\') >= 0 || len(b) <= end+1 || b[end+1] != ',' {
		return "", nil, false
	}
	return string(b[:end]), b[end+2:], true
}

// plainWord reports whether b is a drop reason's shape: lower-case
// letters and dashes.
func plainWord(b []byte) bool {
	for _, c := range b {
		if (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return len(b) > 0
}
