package results

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/glomers/glomers/workbench/checker"
)

// ExplainFile is the explanation's name in a run's folder.
const ExplainFile = "explain.json"

// Explanation is why a run came to its verdict, in plain words: one
// Finding per failing check, drawn from the history, the network journal
// and the checkers' results (see package explain). Maelstrom's results
// map is left as it is; the explanation sits beside it in explain.json.
// A valid run has no findings.
type Explanation struct {
	Valid    checker.Validity `json:"valid"`
	Findings []Finding        `json:"findings"`
}

// Finding explains one failing check.
type Finding struct {
	// Section is the results map's section the finding explains:
	// "workload", "availability", "stats", "glomers", ...
	Section string `json:"section"`
	// Kind names what was found, for programs: "lost", "duplicate-ids",
	// "G1a", "no-ok", ...
	Kind string `json:"kind"`
	// Count is how many instances there are (lost values, anomalies,
	// failed operations).
	Count int `json:"count"`
	// Short is a few words for a scoreboard row: "lost 30 values",
	// "G1a ×1682", "final read 408 < 1467".
	Short string `json:"short"`
	// Summary is one sentence saying what went wrong and, where the
	// evidence tells, why.
	Summary string `json:"summary"`
	// Examples are concrete instances, the most telling first; bounded
	// (see MaxExamples), Count says how many there are.
	Examples []Example `json:"examples,omitempty"`
	// Advisory is set for findings of glomers' own checks, which count
	// toward the verdict only under --strict.
	Advisory bool `json:"advisory,omitempty"`
}

// Example is one instance of a finding: a line, the story behind it
// (operations and messages, one per line) and, when one was drawn, a
// picture of it in the run's folder.
type Example struct {
	Text  string   `json:"text"`
	Lines []string `json:"lines,omitempty"`
	// File is a file in the run's folder that shows this example (a
	// cycle's drawing, porcupine's visualization), "" when none.
	File string `json:"file,omitempty"`
}

// MaxExamples bounds a finding's examples, so that explain.json stays
// small whatever the history holds.
const MaxExamples = 20

// Counting reports the findings that count toward the verdict (not
// advisory).
func (x Explanation) Counting() []Finding {
	var out []Finding
	for _, f := range x.Findings {
		if !f.Advisory {
			out = append(out, f)
		}
	}
	return out
}

// Reasons lists the Short of each finding that counts toward the
// verdict, for a scoreboard row.
func (x Explanation) Reasons() []string {
	var out []string
	for _, f := range x.Counting() {
		out = append(out, f.Short)
	}
	return out
}

// Lines renders the explanation for a terminal in at most limit lines:
// one per finding that counts toward the verdict, each followed by its
// first example as long as that leaves room for every such finding's
// line. Advisory findings come last, marked, in what room is left.
func (x Explanation) Lines(limit int) []string {
	var out []string
	counting := x.Counting()
	room := limit - len(counting) // lines left for examples
	for _, f := range counting {
		if len(out) >= limit {
			break
		}
		out = append(out, "- "+f.Summary)
		if room > 0 && len(f.Examples) > 0 {
			out = append(out, "    e.g. "+f.Examples[0].Text)
			room--
		}
	}
	for _, f := range x.Findings {
		if f.Advisory && len(out) < limit {
			out = append(out, "- (glomers' own check, counts with --strict) "+f.Summary)
		}
	}
	return out
}

// Marshal returns the explanation as indented JSON with a final newline,
// as explain.json holds it.
func (x Explanation) Marshal() ([]byte, error) {
	if x.Findings == nil {
		x.Findings = []Finding{}
	}
	b, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("results: explanation: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseExplanation reads an explain.json.
func ParseExplanation(b []byte) (Explanation, error) {
	var x Explanation
	if err := json.Unmarshal(b, &x); err != nil {
		return Explanation{}, fmt.Errorf("results: %s: %w", ExplainFile, err)
	}
	return x, nil
}

// Plural returns "1 value" or "3 values": n and noun, with an s unless n
// is 1. Explanations use it to keep their sentences right.
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ey") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Verb returns singular for one thing and plural for any other number:
// the verb, or the pronoun, that agrees with n ("is"/"are",
// "was"/"were", "it"/"them").
func Verb(n int, singular, plural string) string {
	if n == 1 {
		return singular
	}
	return plural
}
