// Package all assembles the registry of every workload this bench runs:
// each lives in a package of its own under workbench/workload, which
// cannot register itself with workload without an import cycle, so the
// one list is here.
package all

import (
	"github.com/glomers/glomers/workbench/workload"
	"github.com/glomers/glomers/workbench/workload/broadcast"
	"github.com/glomers/glomers/workbench/workload/counter"
	"github.com/glomers/glomers/workbench/workload/echo"
	"github.com/glomers/glomers/workbench/workload/gset"
	"github.com/glomers/glomers/workbench/workload/kafka"
	"github.com/glomers/glomers/workbench/workload/linkv"
	"github.com/glomers/glomers/workbench/workload/txn"
	"github.com/glomers/glomers/workbench/workload/uniqueids"
)

// Registry returns a new registry of every workload the bench runs.
func Registry() workload.Registry {
	return workload.Registry{
		"broadcast":       broadcast.New,
		"echo":            echo.New,
		"g-counter":       counter.NewGCounter,
		"g-set":           gset.New,
		"kafka":           kafka.New,
		"lin-kv":          linkv.New,
		"pn-counter":      counter.NewPNCounter,
		"txn-list-append": txn.NewListAppend,
		"txn-rw-register": txn.NewRWRegister,
		"unique-ids":      uniqueids.New,
	}
}

// New returns the named workload.
func New(name string, env *workload.Env) (workload.Workload, error) {
	return Registry().New(name, env)
}

// Names lists the workloads this bench implements, sorted.
func Names() []string { return Registry().Names() }
