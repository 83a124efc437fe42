package workbench

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/report"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workload"
)

// Verdict lines Maelstrom prints after the results map.
const (
	verdictValid   = "Everything looks good! ヽ(‘ー`)ノ"
	verdictInvalid = "Analysis invalid! (ﾉಥ益ಥ）ﾉ ┻━┻"
	verdictUnknown = "Errors occurred during analysis, but no anomalies found. ಠ~ಠ"
)

// Verdict returns the line Maelstrom prints for a verdict.
func Verdict(v checker.Validity) string {
	switch v {
	case checker.Valid:
		return verdictValid
	case checker.Invalid:
		return verdictInvalid
	}
	return verdictUnknown
}

// finish analyses the history (when the run got that far), stores what
// was collected and prints the results.
func (r *run) finish(res *Result, runErr error) *Result {
	if res == nil {
		res = &Result{}
	}
	if r.hist != nil {
		res.History = r.hist.Ops()
		res.Startup = r.hist.Start().Sub(r.began)
	}
	res.Journal = r.journal.inMemory()
	if r.net != nil && r.net.Overflowed() > 0 {
		lost := r.net.Overflowed()
		r.log.Warnf("%d messages were lost because %d MB were already waiting to be delivered: a node sends faster than its peers read.", lost, maxQueued>>20)
	}
	if runErr == nil {
		if r.track != nil {
			r.track.setPhase("analysis")
		}
		r.log.Infof("Analysing %d history entries and %d network events...", len(res.History), r.journal.count())
		composed, net := r.analyse(res.History)
		res.Results = composed.Map()
		res.Summary = Summarise(res.History, composed, net)
		res.Summary.Seed = r.cfg.Seed
		res.Valid = res.Summary.Valid
		if needsExplaining(composed) {
			r.explain(res, composed)
		}
	}
	if r.store != nil {
		res.Dir = r.store.Dir()
		res.Summary.Dir = res.Dir
		r.save(res)
	}
	if runErr != nil {
		r.log.Errorf("Test crashed: %v", runErr)
	} else {
		out, err := edn.MarshalIndent(res.Results)
		if err != nil {
			r.log.Errorf("cannot print results: %v", err)
		}
		r.log.Printf("\n%s\n\n%s\n", out, Verdict(res.Valid))
		if why := failingLine(res.Summary.Failing); why != "" {
			r.log.Printf("%s\n", why)
		}
		if x := res.Explanation; x != nil && len(x.Findings) > 0 {
			r.log.Printf("Why:\n%s\n", strings.Join(x.Lines(maxExplainLines), "\n"))
		}
	}
	if r.store != nil {
		r.log.Printf("%s\n", browseLine(r.cfg.StoreRoot, r.store.Dir()))
	}
	if r.store != nil {
		if err := r.store.Close(); err != nil {
			r.log.Warnf("store: %v", err)
		}
		r.sayIfLarge(r.store.Dir())
	}
	return res
}

// maxExplainLines bounds the explanation printed at the end of a run;
// explain.json and the run's page hold the whole of it.
const maxExplainLines = 10

// needsExplaining reports whether any section, advisory or not, is not
// valid: a valid run pays nothing for explanations.
func needsExplaining(c checker.Composed) bool {
	for _, s := range c {
		if s.Validity() != checker.Valid {
			return true
		}
	}
	return false
}

// explain computes why the run is not valid (see package explain) from
// its history, its results and the network journal, which it reads back
// from the store's file (closing it first) or from memory.
func (r *run) explain(res *Result, composed checker.Composed) {
	began := time.Now()
	ev := &explain.Evidence{
		Ops: res.History, Nodes: r.cfg.NodeIDs, Concurrency: r.cfg.Concurrency,
		Journal: memoryEvents(res.Journal),
	}
	for _, s := range composed {
		m, _ := s.Result.(edn.Map)
		switch s.Name {
		case "workload":
			ev.Workload = m
		case "glomers":
			ev.Glomers = m
			ev.Extra, _ = explainLookup(m, "workload").(edn.Map)
		}
	}
	if r.store != nil {
		if _, err := r.journal.closeFile(r.log); err != nil {
			r.log.Warnf("store journal: %v", err)
		}
		dir := r.store.Dir()
		ev.Journal = r.journal.fileEvents(dir)
		ev.WriteFile = r.store.WriteFile
	}
	x := explain.Explain(ev, composed, r.wl)
	res.Explanation = &x
	res.Summary.Reasons = x.Reasons()
	r.log.Infof("Explained %s in %v.", results.Plural(len(x.Findings), "finding"), time.Since(began).Round(time.Millisecond))
}

// explainLookup returns m's value under keyword k, nil when none.
func explainLookup(m edn.Map, k string) any {
	for _, e := range m {
		if e.Key == edn.Keyword(k) {
			return e.Val
		}
	}
	return nil
}

// failingLine names the sections of the results that failed the run
// ("Failing: :workload, :availability"), or "" when none did.
func failingLine(failing []string) string {
	if len(failing) == 0 {
		return ""
	}
	return "Failing: :" + strings.Join(failing, ", :")
}

// browseLine says where a run's files are and how to look at them: the
// folder, and the command and address that show its page.
func browseLine(root, dir string) string {
	serve := "glomers serve"
	if filepath.Clean(root) != DefaultStoreRoot {
		serve += " --store " + root
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Sprintf("This run's files are in %s (browse them with %s).", dir, serve)
	}
	return fmt.Sprintf("This run's files are in %s; to browse them, run %s and open http://127.0.0.1:8080/files/%s/",
		dir, serve, filepath.ToSlash(rel))
}

// maxQueued bounds the message bodies waiting in the network's queues
// (see netsim.Config.MaxQueued): far above what any well-behaved run
// keeps in flight, far below what a flood would pile up.
const maxQueued = 32 << 20

// largeRun is the size of a run's folder above which glomers test says
// how large it is and how to clean up.
const largeRun = 20 << 20

// sayIfLarge prints the size of a run's folder when it is large.
func (r *run) sayIfLarge(dir string) {
	size, err := report.DirSize(dir)
	if err != nil || size <= largeRun {
		return
	}
	r.log.Infof("This run's folder %s holds %d MB. Every run is kept: delete old ones with rm -rf %s (or the whole store, rm -rf %s).",
		dir, size>>20, dir, r.cfg.StoreRoot)
}

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

// memoryEvents returns an iterator over events kept in memory (as
// Result.Journal holds them).
func memoryEvents(mem []netsim.Event) func(yield func(netsim.Event) bool) error {
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
// dir, which closeFile must have closed.
func (j *journal) fileEvents(dir string) func(yield func(netsim.Event) bool) error {
	return func(yield func(netsim.Event) bool) error {
		return report.ReadJournal(dir, func(e report.JournalEntry) bool {
			return yield(netsim.Event{Recv: e.Recv, Time: e.Time, Drop: e.Drop,
				Msg: &netsim.Message{ID: e.ID, Src: e.Src, Dest: e.Dest, Body: e.Body}})
		})
	}
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

// analyse runs Maelstrom's composed checker, then our own extra checks
// in a separate :glomers section that counts only with --strict. It
// returns the :net statistics as well, for the summary.
func (r *run) analyse(ops []history.Op) (checker.Composed, checker.NetStats) {
	net := r.journal.netStats(ops)
	return checker.Composed{
		{Name: "perf", Result: checker.Perf()},
		{Name: "timeline", Result: checker.Timeline()},
		{Name: "exceptions", Result: checker.Exceptions(ops)},
		{Name: "stats", Result: checker.Stats(ops)},
		{Name: "availability", Result: checker.Availability(ops, r.cfg.Availability)},
		{Name: "net", Result: net.Map()},
		{Name: "workload", Result: r.wl.Check(ops)},
		{Name: "glomers", Result: r.extraChecks(ops), Advisory: !r.cfg.Strict},
	}, net
}

// extraChecks are what this bench notices and Maelstrom does not hold
// against a node: protocol lines Maelstrom would have choked on without
// failing the test outright, replies to clients that had given up,
// messages no client could take as a reply, and the workload's own extra
// checks (see workload.ExtraChecker).
func (r *run) extraChecks(ops []history.Op) edn.Map {
	bad, dropped, strays := r.nodes.protocolReport()
	v := checker.Valid
	if len(bad) > 0 {
		v = checker.Invalid
	}
	m := edn.K("strict?", r.cfg.Strict, "protocol-errors", bad, "replies-to-closed-clients", dropped)
	if len(strays) > 0 {
		// Messages no client could take as a reply: reported, not judged
		// (their requests already show as timeouts).
		m = append(m, edn.Entry{Key: edn.Keyword("replies-without-in-reply-to"), Val: strays})
	}
	if x, ok := r.wl.(workload.ExtraChecker); ok {
		w := x.ExtraCheck(ops)
		m = append(m, edn.Entry{Key: edn.Keyword("workload"), Val: w})
		v = checker.Worst(v, checker.ValidityOf(w))
	}
	return append(m, edn.Entry{Key: edn.Keyword("valid?"), Val: v.EDN()})
}

// save writes the store's files; failures are logged, never fatal, so
// one broken plot does not lose the history.
func (r *run) save(res *Result) {
	st := r.store
	try := func(what string, err error) {
		if err != nil {
			r.log.Warnf("store %s: %v", what, err)
		}
	}
	try("history", st.WriteHistory(res.History))
	wrote, err := r.journal.closeFile(r.log)
	try("journal", err)
	if wrote {
		try("messages.svg", st.WriteMessagesSVG())
	}
	if res.Results != nil {
		try("results", st.WriteResults(res.Results))
		try(results.File, writeSummary(st, res.Summary))
	}
	if x := res.Explanation; x != nil {
		try(results.ExplainFile, writeExplanation(st, *x))
	}
	try("timeline", st.WriteTimeline(res.History))
	try("plots", st.WritePlots(res.History))
	if fw, ok := r.wl.(workload.FileWriter); ok {
		for _, f := range fw.Files() {
			try(f.Name, f.Write(st.Path(f.Name), res.History))
		}
	}
}

// logger writes Maelstrom-style log lines to the console and jepsen.log.
type logger struct {
	mu sync.Mutex
	w  io.Writer
}

func newLogger(console io.Writer) *logger {
	if console == nil {
		console = io.Discard
	}
	return &logger{w: console}
}

// add makes the logger write to w as well from now on.
func (l *logger) add(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w = io.MultiWriter(l.w, w)
}

func (l *logger) line(level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s [%s] %s\n", level, time.Now().Format("2006-01-02 15:04:05.000"), fmt.Sprintf(format, args...))
}

// Infof logs at INFO.
func (l *logger) Infof(format string, args ...any) { l.line("INFO", format, args...) }

// Warnf logs at WARN.
func (l *logger) Warnf(format string, args ...any) { l.line("WARN", format, args...) }

// Errorf logs at ERROR.
func (l *logger) Errorf(format string, args ...any) { l.line("ERROR", format, args...) }

// Printf writes raw text.
func (l *logger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}
