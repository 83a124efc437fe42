package echo

import (
	"fmt"
	"strings"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/results"
)

// Explain names every echo that came back wrong (or failed) with the
// request and the reply, as Check judges them.
func (*echo) Explain(ev *explain.Evidence) []results.Finding {
	var examples []results.Example
	answered, wrong := 0, 0
	byNode := map[string]int{}
	var nodes []string
	open := map[int]int{} // process → index of its open invocation
	for i, c := range ev.Ops {
		if !c.IsClient() {
			continue
		}
		if c.Type == history.Invoke {
			open[c.Process] = i
			continue
		}
		j, ok := open[c.Process]
		if !ok {
			continue
		}
		delete(open, c.Process)
		if c.Type != history.OK && c.Type != history.Fail {
			continue
		}
		inv := ev.Ops[j]
		answered++
		if c.Type == history.OK && sameEcho(inv.Value, echoField(c.Value)) {
			continue
		}
		wrong++
		node := ev.NodeOf(inv.Process)
		if byNode[node] == 0 {
			nodes = append(nodes, node)
		}
		byNode[node]++
		if len(examples) < results.MaxExamples {
			examples = append(examples, mismatch(ev, inv, c))
		}
	}
	if wrong == 0 {
		return nil
	}
	sum := fmt.Sprintf("%d of %s came back without the text that was sent", wrong, results.Plural(answered, "answered echo request"))
	if len(nodes) > 0 && nodes[0] != "" {
		parts := make([]string, len(nodes))
		for i, n := range nodes {
			parts[i] = fmt.Sprintf("%d from %s", byNode[n], n)
		}
		sum += " (" + strings.Join(parts, ", ") + ")"
	}
	return []results.Finding{{Kind: "errors", Count: wrong, Short: wrongEchoes(wrong),
		Summary: sum + ".", Examples: examples}}
}

// mismatch tells one wrong echo: what was sent, what came back.
func mismatch(ev *explain.Evidence, inv, c history.Op) results.Example {
	sent := fmt.Sprintf("%s sent echo %s %s", ev.Who(inv), show(inv.Value), explain.At(inv.Time))
	if c.Type == history.Fail {
		return results.Example{Text: fmt.Sprintf("%s; the request failed %s: %s", sent, explain.At(c.Time), explain.ErrorName(c)),
			Lines: []string{sent, fmt.Sprintf("failed %s: %s", explain.At(c.Time), explain.ErrorName(c))}}
	}
	got := echoField(c.Value)
	reply := fmt.Sprintf("%s replied %s: %s", ev.NodeOf(inv.Process), explain.At(c.Time), show(c.Value))
	text := fmt.Sprintf("%s; the reply echoed %s", sent, show(got))
	if got == nil {
		text = fmt.Sprintf("%s; the reply had no echo", sent)
	}
	return results.Example{Text: text, Lines: []string{sent, reply}}
}

// show renders a value as JSON would show it.
func show(v any) string {
	b, err := edn.MarshalJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// wrongEchoes is the scoreboard's few words: "12 wrong echoes".
func wrongEchoes(n int) string {
	if n == 1 {
		return "1 wrong echo"
	}
	return fmt.Sprintf("%d wrong echoes", n)
}

// sameEcho is history.Equal, as Check compares, with a shortcut for the
// strings echo sends: equal strings are equal values.
func sameEcho(sent, got any) bool {
	if a, ok := sent.(string); ok {
		if b, ok := got.(string); ok && a == b {
			return true
		}
	}
	return history.Equal(sent, got)
}
