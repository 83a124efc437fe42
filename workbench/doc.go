// Package workbench runs one Maelstrom-style test: it starts the nodes,
// the services and the simulated network, drives the workload's clients
// and the nemesis, runs the final phase, checks the history and stores
// everything under store/. It is a pure-Go re-implementation of
// `maelstrom test` as Maelstrom 0.2.4 runs it (src/maelstrom/core.clj
// and the Jepsen 0.3.7 it builds on); each part names the source it
// follows.
//
// Run and Config are the API. Config (config.go) holds every setting,
// its default and its validation, and derives from them what the rest
// is told: the workload's Env, test.json, the network's and the
// nemesis's settings. The run itself is split by what each part holds:
//
//	runner.go    Run and the run's phases: setup, main, recovery, final
//	schedule.go  the client threads, and when each operation goes out
//	nodes.go     the cluster: services, node processes and their lives
//	protocol.go  what a node prints, checked as Maelstrom checks it
//	faults.go    what the nemesis loop (package nemesis) acts on
//	progress.go  the live progress of a run
//	finish.go    analysis, why an invalid run is invalid, the results
//	             and the store's files
//	journal.go   the network's events, counted and written as they come
//	log.go       the test log
//	summary.go   the typed summary of a run's results
//	inprocess.go nodes as Go functions, for whole tests in virtual time
package workbench
