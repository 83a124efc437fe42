package broadcast

import (
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/results"
)

// setWorkload names broadcast's operations for the set explanations.
var setWorkload = explain.SetWorkload{AddF: "broadcast", Noun: "value"}

// Explain says, for every broadcast value missing from the final reads,
// where it entered, which nodes lack it and what became of every server
// message that carried it (delivered, dropped by which partition, re-sent
// or not after the heal); and, for glomers' extra check, which reads
// listed a value twice or one never broadcast.
func (*broadcast) Explain(ev *explain.Evidence) []results.Finding {
	found, err := explain.SetFull(ev, setWorkload)
	if err != nil && len(found) > 0 {
		found[0].Summary += " (the network journal could not be read to the end: " + err.Error() + ")"
	}
	return append(found, explain.SetExtras(ev, setWorkload)...)
}
