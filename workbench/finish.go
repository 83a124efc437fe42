package workbench

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/report"
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
	if r.net != nil {
		res.Journal = r.net.Journal()
	}
	if runErr == nil {
		if r.track != nil {
			r.track.setPhase("analysis")
		}
		r.log.Infof("Analysing %d history entries and %d network events...", len(res.History), len(res.Journal))
		res.Results = r.analyse(res.History, res.Journal)
		res.Valid = checker.ValidityOf(res.Results)
	}
	if r.store != nil {
		res.Dir = r.store.Dir()
		r.save(res)
	}
	if runErr != nil {
		r.log.Errorf("Test crashed: %v", runErr)
		if r.store != nil {
			r.log.Infof("What was collected is in %s", r.store.Dir())
		}
	} else {
		out, err := edn.MarshalIndent(res.Results)
		if err != nil {
			r.log.Errorf("cannot print results: %v", err)
		}
		r.log.Printf("\n%s\n\n%s\n", out, Verdict(res.Valid))
	}
	if r.store != nil {
		if err := r.store.Close(); err != nil {
			r.log.Warnf("store: %v", err)
		}
	}
	return res
}

// analyse runs Maelstrom's composed checker, then our own extra checks
// in a separate :glomers section that counts only with --strict.
func (r *run) analyse(ops []history.Op, journal []netsim.Event) edn.Map {
	events := make([]checker.NetEvent, len(journal))
	for i, e := range journal {
		events[i] = checker.NetEvent{Recv: e.Recv, MsgID: e.Msg.ID, Src: e.Msg.Src, Dest: e.Msg.Dest}
	}
	results := checker.Compose(edn.Map{
		{Key: edn.Keyword("perf"), Val: checker.Perf()},
		{Key: edn.Keyword("timeline"), Val: checker.Timeline()},
		{Key: edn.Keyword("exceptions"), Val: checker.Exceptions(ops)},
		{Key: edn.Keyword("stats"), Val: checker.Stats(ops)},
		{Key: edn.Keyword("availability"), Val: checker.Availability(ops, r.cfg.Availability)},
		{Key: edn.Keyword("net"), Val: checker.Net(events, ops)},
		{Key: edn.Keyword("workload"), Val: r.wl.Check(ops)},
	})
	extra := r.extraChecks()
	if x, ok := r.wl.(workload.ExtraChecker); ok {
		w := x.ExtraCheck(ops)
		v := checker.Worst(checker.ValidityOf(extra), checker.ValidityOf(w))
		extra = append(extra[:len(extra)-1], edn.Entry{Key: edn.Keyword("workload"), Val: w},
			edn.Entry{Key: edn.Keyword("valid?"), Val: v.EDN()})
	}
	verdict := checker.ValidityOf(results)
	if r.cfg.Strict {
		verdict = checker.Worst(verdict, checker.ValidityOf(extra))
	}
	results = results[:len(results)-1] // drop :valid?, re-added last
	results = append(results,
		edn.Entry{Key: edn.Keyword("glomers"), Val: extra},
		edn.Entry{Key: edn.Keyword("valid?"), Val: verdict.EDN()})
	return results
}

// extraChecks are what this bench notices and Maelstrom does not hold
// against a node: protocol lines Maelstrom would have choked on without
// failing the test outright, and replies to clients that had given up.
func (r *run) extraChecks() edn.Map {
	var bad edn.Map
	dropped := 0
	ids := make([]string, 0, len(r.nodes))
	for id := range r.nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		nc := r.nodes[id]
		nc.mu.Lock()
		if nc.badLine != nil {
			bad = append(bad, edn.Entry{Key: id, Val: nc.badLine.Error()})
		}
		dropped += nc.dropped
		nc.mu.Unlock()
	}
	v := checker.Valid
	if len(bad) > 0 {
		v = checker.Invalid
	}
	m := edn.K("strict?", r.cfg.Strict, "protocol-errors", bad, "replies-to-closed-clients", dropped)
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
	entries := make([]report.JournalEntry, len(res.Journal))
	for i, e := range res.Journal {
		entries[i] = report.JournalEntry{Recv: e.Recv, Time: e.Time, ID: e.Msg.ID, Src: e.Msg.Src, Dest: e.Msg.Dest, Body: e.Msg.Body}
	}
	try("journal", st.WriteJournal(entries))
	try("messages.svg", st.WriteMessagesSVG(entries, r.cfg.NodeIDs))
	if res.Results != nil {
		try("results", st.WriteResults(res.Results))
	}
	try("timeline", st.WriteTimeline(res.History))
	try("plots", st.WritePlots(res.History))
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
