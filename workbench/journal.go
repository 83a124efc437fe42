package workbench

import (
	"slices"
	"sync"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/report"
)

// journal takes every network event as it happens (see
// netsim.Config.Record): it counts what the :net statistics need and
// writes the event to the store's journal file, so the bench keeps no
// message in memory; without a store (tests) it keeps every event in
// memory instead, for Result.Journal.
type journal struct {
	mu     sync.Mutex
	net    checker.NetCounter
	events int64
	file   *report.JournalWriter
	mem    []netsim.Event
	// closed and closeErr are what the first closeFile did.
	closed   bool
	closeErr error
}

func (j *journal) record(e netsim.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if e.Drop == "" { // Maelstrom's journal, and so :net, knows no drops
		j.net.Add(checker.NetEvent{Recv: e.Recv, MsgID: e.Msg.ID, Src: e.Msg.Src, Dest: e.Msg.Dest})
		j.events++
	}
	if j.file != nil {
		j.file.Add(report.JournalEntry{Recv: e.Recv, Time: e.Time, ID: e.Msg.ID, Src: e.Msg.Src, Dest: e.Msg.Dest, Body: e.Msg.Body, Drop: e.Drop})
		return
	}
	j.mem = append(j.mem, e)
}

// writeTo makes the journal write its events to w from now on instead
// of keeping them.
func (j *journal) writeTo(w *report.JournalWriter) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.file, j.mem = w, nil
}

func (j *journal) count() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.events
}

// inMemory returns the events kept, nil when they went to a file.
func (j *journal) inMemory() []netsim.Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.mem)
}

// netStats is the :net statistics of the events so far.
func (j *journal) netStats(ops []history.Op) checker.NetStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.net.Stats(ops)
}

// onHistoryClock returns events with their times moved to the history's
// clock: offset is how far that clock is behind the network's (see
// run.journalOffset).
func onHistoryClock(events explain.Events, offset time.Duration) explain.Events {
	return func(yield func(netsim.Event) bool) error {
		return events(func(e netsim.Event) bool {
			e.Time -= offset.Nanoseconds()
			return yield(e)
		})
	}
}

// memoryEvents returns an iterator over events kept in memory (as
// Result.Journal holds them).
func memoryEvents(mem []netsim.Event) explain.Events {
	return func(yield func(netsim.Event) bool) error {
		for _, e := range mem {
			if !yield(e) {
				break
			}
		}
		return nil
	}
}

// fileEvents returns an iterator over the events of the journal file in
// dir, which journal.closeFile must have closed.
func fileEvents(dir string) explain.Events {
	return func(yield func(netsim.Event) bool) error { return report.ReadJournalEvents(dir, yield) }
}

// closeFile ends the journal file, if there is one, and says when it
// was truncated; called again, it reports what the first call found.
func (j *journal) closeFile(log *logger) (bool, error) {
	j.mu.Lock()
	f := j.file
	if j.closed {
		j.mu.Unlock()
		return f != nil, j.closeErr
	}
	j.closed = true
	j.mu.Unlock()
	if f == nil {
		return false, nil
	}
	err := f.Close()
	j.mu.Lock()
	j.closeErr = err
	j.mu.Unlock()
	if events, written, why := f.Summary(); why != "" {
		log.Warnf("The network journal holds only the first %d of %d events: %s.", written, events, why)
	}
	return true, err
}
