package gset

import (
	"github.com/glomers/glomers/workbench/explain"
	"github.com/glomers/glomers/workbench/results"
)

// setWorkload names g-set's operations for the set explanations.
var setWorkload = explain.SetWorkload{AddF: "add", Noun: "element"}

// Explain says, for every element missing from the final reads, where it
// was added, which nodes lack it and what became of every server message
// that carried it; and, for glomers' extra check, which reads listed an
// element twice or one never added.
func (*gSet) Explain(ev *explain.Evidence) []results.Finding {
	found, err := explain.SetFull(ev, setWorkload)
	if err != nil && len(found) > 0 {
		found[0].Summary += " (the network journal could not be read to the end: " + err.Error() + ")"
	}
	return append(found, explain.SetExtras(ev, setWorkload)...)
}
