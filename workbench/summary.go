package workbench

import (
	"io"
	"slices"

	"github.com/glomers/glomers/workbench/checker"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/report"
	"github.com/glomers/glomers/workbench/results"
	"github.com/glomers/glomers/workbench/workload/linkv"
)

// Summarise computes the typed summary of a run (see package results)
// from its history, its composed results and their :net statistics. The
// verdict and the failing sections come from composed, messages per
// operation from net, and the counts, :ok-fraction and latency
// quantiles from the history's client operations. Dir and Seed are left
// for the caller, who knows them.
func Summarise(ops []history.Op, composed checker.Composed, net checker.NetStats) results.Summary {
	s := results.Summary{Valid: composed.Validity(), Failing: composed.Failing()}
	servers, okS := net.Servers.MsgsPerOp()
	all, okA := net.All.MsgsPerOp()
	if okS && okA {
		s.MsgsPerOp = &results.MsgsPerOp{Servers: servers, All: all}
	}
	var latencies []int64
	for _, p := range history.Pairs(ops) {
		s.Ops.Invoked++
		if p.Complete == nil {
			s.Ops.Pending++
			s.Ops.NoRequest += noRequest(p.Invoke)
			continue
		}
		switch p.Complete.Type {
		case history.OK:
			s.Ops.OK++
			latencies = append(latencies, p.Complete.Time-p.Invoke.Time)
			continue
		case history.Fail:
			s.Ops.Fail++
		case history.Info:
			s.Ops.Info++
		}
		s.Ops.NoRequest += noRequest(p.Invoke)
		if p.Invoke.F != "crash" && linkv.RefusedForTheData(*p.Complete) {
			s.Ops.Refused++
		}
	}
	s.OKFraction = checker.OKFraction(s.Ops.OK, s.Ops.Invoked)
	if len(latencies) > 0 {
		slices.Sort(latencies)
		ms := func(p float64) float64 { return float64(checker.Quantile(latencies, p)) / 1e6 }
		s.Latency = &results.Latency{P50: ms(0.5), P95: ms(0.95), P99: ms(0.99), Max: ms(1)}
	}
	return s
}

// noRequest is 1 for an operation that sends no request (kafka's :crash,
// which only makes the client forget its state), else 0.
func noRequest(invoke history.Op) int {
	if invoke.F == "crash" {
		return 1
	}
	return 0
}

// writeSummary writes the summary to the run's folder as results.File.
func writeSummary(st *report.Store, s results.Summary) error {
	b, err := s.Marshal()
	return writeMarshalled(st, results.File, b, err)
}

// writeExplanation writes the explanation to the run's folder as
// results.ExplainFile.
func writeExplanation(st *report.Store, x results.Explanation) error {
	b, err := x.Marshal()
	return writeMarshalled(st, results.ExplainFile, b, err)
}

// writeMarshalled writes b, the outcome of a Marshal that returned err,
// to the run's folder as name.
func writeMarshalled(st *report.Store, name string, b []byte, err error) error {
	if err != nil {
		return err
	}
	return st.WriteFile(name, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
