// Package suggest finds the name a user probably meant when they typed
// one the command line does not know: a flag, a workload, a challenge id.
package suggest

import "strings"

// maxDistance is the largest edit distance at which a known name is
// still offered: two typos, or one transposition counted as two. Short
// words get less (see Closest), so "9z" does not suggest challenge "1".
const maxDistance = 2

// Closest returns the known name nearest to word and true, or "" and
// false when none is near enough. A name is near enough when word is a
// prefix of it (so "node-cou" finds "node-count") or their edit
// distance is at most 2, and at most half word's length (so a two-letter
// word may be one letter off). Case is ignored. Of several candidates the one
// at the smallest distance wins, then the one listed first, so the result
// does not depend on map order.
func Closest(word string, known []string) (string, bool) {
	w := strings.ToLower(word)
	if w == "" {
		return "", false
	}
	limit := min(maxDistance, len([]rune(w))/2)
	best, bestDist := "", limit+1
	for _, k := range known {
		lk := strings.ToLower(k)
		if lk == w {
			return k, true
		}
		d := distance(w, lk)
		if d > limit && strings.HasPrefix(lk, w) {
			// A prefix ranks just below the weakest typo match.
			d = limit
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	return best, bestDist <= limit
}

// distance is the Levenshtein distance between a and b, counted in
// runes: the fewest insertions, deletions and substitutions that turn
// one into the other.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
