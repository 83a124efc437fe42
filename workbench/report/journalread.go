package report

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
		var e JournalEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("report: %s: event %d: %w", JournalFile, i, err)
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
