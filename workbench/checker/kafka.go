package checker

import (
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// KafkaLag is one realtime-lag sample of the kafka workload: at Time (ns,
// the invocation of an :ok poll) process Process, assigned key Key, was
// Lag ns behind the newest offset of Key known to exist.
type KafkaLag struct {
	Time    int64
	Process int
	Key     string
	Lag     int64 // ns
}

// Kafka checks the kafka workload's history, as Maelstrom's
// src/maelstrom/workload/kafka.clj checker does, and returns its
// :workload result map.
//
// Work in progress: this version only reports the shape.
func Kafka(ops []history.Op) edn.Map {
	return edn.K("valid?", Unknown.EDN(), "error", "kafka checker not implemented yet")
}

// KafkaCommittedOffsets checks that committed offsets never go backwards
// (reported under :glomers, beyond Maelstrom).
//
// Work in progress: this version only reports the shape.
func KafkaCommittedOffsets(ops []history.Op) edn.Map {
	return edn.K("valid?", true, "count", 0, "errs", edn.Vector{})
}

// KafkaRealtimeLags returns every realtime-lag sample of the history, in
// history order, for a whole-run plot.
//
// Work in progress: this version returns nothing.
func KafkaRealtimeLags(ops []history.Op) []KafkaLag {
	return nil
}
