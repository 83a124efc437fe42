package checker

import (
	"cmp"
	"sort"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// UnknownResult is what Jepsen's check-safe makes of a checker that
// throws: {:valid? :unknown, :error "..."}.
func UnknownResult(err error) edn.Map {
	return edn.K("valid?", Unknown.EDN(), "error", err.Error())
}

// quantilePoints are the points at which Jepsen summarises latency
// distributions, in the order they are printed.
var quantilePoints = [...]float64{0, 0.5, 0.95, 0.99, 1}

// Quantile returns the value at point p (0 ≤ p ≤ 1) of an ascending
// sorted slice by Jepsen's rule: the element at index min(n−1, ⌊n·p⌋),
// as in jepsen.checker.perf's quantiles and its latency-quantiles plot.
// It is the one quantile rule of glomers: the results' latency maps,
// the scoreboard's figures and the plots all use it, so they agree. It
// panics on an empty slice, as there is no value to report.
func Quantile[T cmp.Ordered](sorted []T, p float64) T {
	n := len(sorted)
	i := int(float64(n) * p) // ⌊n·p⌋ for the non-negative values used here
	if i > n-1 {
		i = n - 1
	}
	return sorted[i]
}

// Quantiles summarises values (in any order) as Jepsen's
// frequency-distribution does: the map {0 a, 0.5 b, 0.95 c, 0.99 d, 1 e}
// with the end points printed as integers. It returns nil for no values.
func Quantiles(values []int64) edn.Map {
	if len(values) == 0 {
		return nil
	}
	sorted := append([]int64(nil), values...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	m := make(edn.Map, 0, len(quantilePoints))
	for _, p := range quantilePoints {
		var key any = p
		if p == 0 || p == 1 {
			key = int64(p) // Clojure prints these points as the longs 0 and 1
		}
		m = append(m, edn.Entry{Key: key, Val: Quantile(sorted, p)})
	}
	return m
}

// OpsEDN renders operations as an EDN list of op maps.
func OpsEDN(ops []history.Op) edn.List {
	l := make(edn.List, len(ops))
	for i, op := range ops {
		l[i] = op.EDN()
	}
	return l
}
