package workbench

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
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
		Ops: res.History, Nodes: r.cfg.NodeIDs, Concurrency: r.cfg.Concurrency, Availability: r.cfg.Availability,
	}
	for _, s := range composed {
		m, _ := s.Result.(edn.Map)
		switch s.Name {
		case "workload":
			ev.Workload = m
		case "glomers":
			ev.Glomers = m
			ev.Extra, _ = m.Lookup("workload").(edn.Map)
		}
	}
	events := memoryEvents(res.Journal)
	if r.store != nil {
		if _, err := r.journal.closeFile(r.log); err != nil {
			r.log.Warnf("store journal: %v", err)
		}
		events = fileEvents(r.store.Dir())
		ev.WriteFile = r.store.WriteFile
	}
	ev.Journal = onHistoryClock(events, r.journalOffset())
	x := explain.Explain(ev, composed, r.wl)
	res.Explanation = &x
	res.Summary.Reasons = x.Reasons()
	r.log.Infof("Explained %s in %v.", results.Plural(len(x.Findings), "finding"), time.Since(began).Round(time.Millisecond))
}

// journalOffset is how far the history's clock is behind the network's:
// a journal event's time less this is its time on the history's clock,
// which the explanations and the diagrams use (the setup, init
// included, comes before the history's zero).
func (r *run) journalOffset() time.Duration {
	if r.net == nil || r.hist == nil {
		return 0
	}
	return r.hist.Start().Sub(r.net.Started())
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
		try("messages.svg", st.WriteMessagesSVG(report.DiagramNotesOf(res.History, r.journalOffset())))
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
