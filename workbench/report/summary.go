package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/glomers/glomers/workbench/results"
)

// runSummary is what the serve index and a run's index.html say about
// one stored test: read from its directory, never from memory (the
// verdict and key figures from the summary.json the runner writes, see
// package results), so a test stored by an older glomers, with only a
// results.json, or copied from elsewhere, is described the same way.
type runSummary struct {
	Name, Stamp string
	Start       time.Time
	Valid       string // "true", "false", "unknown", or "" without results
	// Reasons says in a few words why each failing check failed (from
	// summary.json, see results.Summary.Reasons).
	Reasons []string
	Figures []figure
	Files   []string // top-level entries, directories with a trailing "/"
	Test    testParams
}

// figure is one key figure of a run, already formatted.
type figure struct{ Name, Value, Help string }

// testParams are the parts of test.json worth a line on the run page.
type testParams struct {
	Nodes       int
	TimeLimit   string
	Rate        string
	Latency     string
	Nemesis     string
	Seed        string
	Concurrency string
}

// readableTime is how pages show a test's start: in UTC to the second,
// such as "2021-02-23 15:30:56 UTC", whatever zone the store's directory
// name carries, so runs stored on machines in different zones compare
// at a glance.
func readableTime(t time.Time) string {
	if t.IsZero() {
		return "unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// summarise reads the test directory dir, named stamp, of the test name.
func summarise(dir fs.FS, name, stamp string) runSummary {
	s := runSummary{Name: name, Stamp: stamp}
	if start, err := time.Parse(TimeLayout, stamp); err == nil {
		s.Start = start
	} else if info, err := fs.Stat(dir, "."); err == nil {
		s.Start = info.ModTime()
	}
	if entries, err := fs.ReadDir(dir, "."); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			n := e.Name()
			if e.IsDir() {
				n += "/"
			}
			s.Files = append(s.Files, n)
		}
	}
	resultsJSON, hasResults := readJSON(dir, "results.json")
	if sum, ok := readSummary(dir); ok {
		s.Valid = sum.Valid.String()
		s.Reasons = sum.Reasons
		s.Figures = summaryFigures(sum)
	} else if hasResults {
		// A run stored before glomers wrote summary.json.
		s.Valid = validityOf(resultsJSON)
		s.Figures = resultsFigures(resultsJSON)
	}
	if hasResults {
		s.Figures = append(s.Figures, workloadFigures(resultsJSON)...)
	}
	if test, ok := readJSON(dir, "test.json"); ok {
		s.Test = paramsOf(test)
	}
	return s
}

// maxJSONRead bounds the results.json and test.json the pages read.
const maxJSONRead = 16 << 20

// readSummary reads the run's results.File, written by the runner.
func readSummary(dir fs.FS) (results.Summary, bool) {
	b, err := readSmallFile(dir, results.File, maxJSONRead)
	if err != nil {
		return results.Summary{}, false
	}
	sum, err := results.Parse(b)
	return sum, err == nil
}

// readJSON decodes a JSON object from a regular file of dir of at most
// maxJSONRead bytes, keeping numbers exact.
func readJSON(dir fs.FS, name string) (map[string]any, bool) {
	b, err := readSmallFile(dir, name, maxJSONRead)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, false
	}
	return m, true
}

// validityOf returns the :valid? of a results map as "true", "false" or
// "unknown".
func validityOf(results map[string]any) string {
	switch v := results["valid?"].(type) {
	case bool:
		return strconv.FormatBool(v)
	}
	return "unknown"
}

// lookup follows keys through nested JSON objects.
func lookup(m map[string]any, keys ...string) (any, bool) {
	var cur any = m
	for _, k := range keys {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// summaryFigures picks the figures a reader compares runs by from the
// run's summary: messages per operation (Maelstrom's :net :servers
// :msgs-per-op, the figure Gossip Glomers' targets use), the fraction of
// ok operations and the operation count.
func summaryFigures(sum results.Summary) []figure {
	var msgs *float64
	if sum.MsgsPerOp != nil {
		f := float64(sum.MsgsPerOp.Servers)
		msgs = &f
	}
	okFraction, ok, count := float64(sum.OKFraction), float64(sum.Ops.OK), float64(sum.Ops.Completed())
	return headline(msgs, &okFraction, &ok, &count)
}

// resultsFigures reads the figures summaryFigures gives from a
// results.json, for a run stored without summary.json.
func resultsFigures(res map[string]any) []figure {
	at := func(keys ...string) *float64 {
		if v, ok := lookup(res, keys...); ok {
			if f, ok := number(v); ok {
				return &f
			}
		}
		return nil
	}
	ok := at("stats", "ok-count")
	if ok == nil {
		ok = new(float64)
	}
	return headline(at("net", "servers", "msgs-per-op"), at("availability", "ok-fraction"), ok, at("stats", "count"))
}

// headline formats the figures every run has; a nil figure is left out
// (an operation count needs count).
func headline(msgsPerOp, okFraction, okCount, count *float64) []figure {
	var out []figure
	if msgsPerOp != nil {
		out = append(out, figure{"msgs-per-op", formatNumber(*msgsPerOp), ":net :servers :msgs-per-op — messages among servers per client operation"})
	}
	if okFraction != nil {
		out = append(out, figure{"ok-fraction", formatNumber(*okFraction), ":availability :ok-fraction — the fraction of operations that succeeded"})
	}
	if count != nil {
		out = append(out, figure{"ops", formatNumber(*okCount) + " ok / " + formatNumber(*count), ":stats — operations that succeeded, of all"})
	}
	return out
}

// workloadFigures are every latency-quantile map of the workload's
// results (broadcast's :stable-latencies, for instance): figures of one
// workload, which the summary leaves in the results map.
func workloadFigures(res map[string]any) []figure {
	var out []figure
	if wl, ok := res["workload"].(map[string]any); ok {
		keys := make([]string, 0, len(wl))
		for k := range wl {
			if strings.HasSuffix(k, "-latencies") {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if q := quantileText(wl[k]); q != "" {
				out = append(out, figure{k, q, ":workload :" + k + " — quantiles in milliseconds"})
			}
		}
	}
	return out
}

// quantileText formats a map of quantile to milliseconds, such as
// {"0": 0, "0.5": 300, "1": 1200}, as "p50 300 ms · max 1200 ms";
// "" when v is not such a map.
func quantileText(v any) string {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return ""
	}
	type qv struct{ q, v float64 }
	var qs []qv
	for k, val := range m {
		q, err := strconv.ParseFloat(k, 64)
		f, ok := number(val)
		if err != nil || !ok {
			return ""
		}
		qs = append(qs, qv{q, f})
	}
	slices.SortFunc(qs, func(a, b qv) int { return cmp.Compare(a.q, b.q) })
	var parts []string
	for _, x := range qs {
		var name string
		switch x.q {
		case 0:
			name = "min"
		case 1:
			name = "max"
		default:
			name = "p" + strconv.FormatFloat(x.q*100, 'f', -1, 64)
		}
		parts = append(parts, name+" "+formatNumber(x.v))
	}
	return strings.Join(parts, " · ") + " ms"
}

// formatNumber prints up to three decimals and no trailing zeros:
// 3.5411234 → "3.541", 50 → "50", 1.0 → "1".
func formatNumber(f float64) string {
	return strconv.FormatFloat(roundTo(f, 3), 'f', -1, 64)
}

func roundTo(f float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(f*p) / p
}

// paramsOf reads what test.json says about the test's shape.
func paramsOf(test map[string]any) testParams {
	var p testParams
	if nodes, ok := test["nodes"].([]any); ok {
		p.Nodes = len(nodes)
	}
	str := func(key, unit string) string {
		v, ok := test[key]
		if !ok || v == nil {
			return ""
		}
		if f, ok := number(v); ok {
			return formatNumber(f) + unit
		}
		return fmt.Sprint(v) + unit
	}
	p.TimeLimit = str("time-limit", " s")
	p.Rate = str("rate", "/s")
	p.Concurrency = str("concurrency", "")
	if n, ok := test["seed"].(json.Number); ok {
		p.Seed = n.String()
	}
	if mean, ok := lookup(test, "latency", "mean"); ok {
		if f, ok := number(mean); ok {
			p.Latency = formatNumber(f) + " ms"
			if d, ok := lookup(test, "latency", "dist"); ok {
				p.Latency += fmt.Sprintf(" (%v)", d)
			}
		}
	}
	if nem, ok := test["nemesis"].([]any); ok && len(nem) > 0 {
		var parts []string
		for _, x := range nem {
			parts = append(parts, fmt.Sprint(x))
		}
		p.Nemesis = strings.Join(parts, ", ")
	} else {
		p.Nemesis = "none"
	}
	return p
}
