package report

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("report: %s: %w", JournalFile, err)
	}
	defer gz.Close()
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 0, 64<<10), maxJournalLine)
	for i := 0; sc.Scan(); i++ {
		line := sc.Bytes()
		if bytes.HasPrefix(line, []byte(`{"truncated"`)) {
			return nil
		}
		e, ok := parseJournalLine(line)
		if !ok {
			if err := json.Unmarshal(line, &e); err != nil {
				return fmt.Errorf("report: %s: event %d: %w", JournalFile, i, err)
			}
		}
		if !yield(e) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("report: %s: %w", JournalFile, err)
	}
	return nil
}

// parseJournalLine reads a line in the shape appendJournalLine writes,
// {"recv":B,"time":N,"id":N,"src":"S","dest":"D","body":J} with
// ,"drop":"R" before the closing brace for a drop, without decoding the
// body, which stays raw (a copy, as the line's buffer is reused). It is
// some ten times faster than encoding/json on a journal; ok is false for
// a line of any other shape (an id with an escape in it, a hand-written
// file), which the caller decodes with encoding/json instead.
func parseJournalLine(line []byte) (e JournalEntry, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"recv":`))
	switch {
	case !ok:
		return e, false
	case bytes.HasPrefix(rest, []byte("true,")):
		e.Recv, rest = true, rest[len("true,"):]
	case bytes.HasPrefix(rest, []byte("false,")):
		rest = rest[len("false,"):]
	default:
		return e, false
	}
	if e.Time, rest, ok = intField(rest, `"time":`); !ok {
		return e, false
	}
	if e.ID, rest, ok = intField(rest, `"id":`); !ok {
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
	body = body[:len(body)-1]
	// A drop's reason is a plain word after the body: a body's own
	// "drop" key cannot end the line this way, as the body's closing
	// brace (or, for a string, its closing quote) would follow it.
	if i := bytes.LastIndex(body, []byte(`,"drop":"`)); i >= 0 {
		reason := body[i+len(`,"drop":"`):]
		if n := len(reason); n > 1 && reason[n-1] == '"' && plainWord(reason[:n-1]) {
			e.Drop, body = string(reason[:n-1]), body[:i]
		}
	}
	e.Body = bytes.Clone(body)
	return e, true
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
