package nemesis

import (
	"math/rand/v2"
	"time"
)

// The nemesis operations, as the :f of their history entries.
const (
	StartPartition = "start-partition"
	StopPartition  = "stop-partition"
)

// NextDelay returns how long the nemesis waits before its next operation:
// uniformly random in [0, 2×interval), so interval is the mean gap
// (Maelstrom's --nemesis-interval, 10 s by default). A non-positive
// interval gives 0. rng must not be nil.
func NextDelay(interval time.Duration, rng *rand.Rand) time.Duration {
	if interval <= 0 {
		return 0
	}
	if interval > (1<<63-1)/2 {
		interval = (1<<63 - 1) / 2
	}
	return time.Duration(rng.Int64N(int64(2 * interval)))
}

// Schedule is the sequence of operations one fault's nemesis performs:
// for partitions start-partition, stop-partition, start-partition, …
// (kill, start, kill, … and pause, resume, pause, … for the other
// faults). The first operation is due immediately; each later one after
// NextDelay(interval). A Schedule is not safe for concurrent use.
type Schedule struct {
	interval    time.Duration
	rng         *rand.Rand
	start, stop string
	issued      int // operations returned so far
}

// NewSchedule returns the partition schedule with mean gap interval
// between operations, drawing delays from rng (which must not be nil).
func NewSchedule(interval time.Duration, rng *rand.Rand) *Schedule {
	return NewFaultSchedule(FaultPartition, interval, rng)
}

// NewFaultSchedule returns the schedule of fault (one of Faults), which
// alternates the fault's two operations (see Ops) as partitions do.
func NewFaultSchedule(fault string, interval time.Duration, rng *rand.Rand) *Schedule {
	start, stop := Ops(fault)
	return &Schedule{interval: interval, rng: rng, start: start, stop: stop}
}

// Next returns the next operation (the fault's start or stop operation,
// e.g. StartPartition or StopPartition) and how long to wait, from the
// previous operation, before performing it.
func (s *Schedule) Next() (f string, delay time.Duration) {
	f = s.start
	if s.issued%2 == 1 {
		f = s.stop
	}
	if s.issued > 0 {
		delay = NextDelay(s.interval, s.rng)
	}
	s.issued++
	return f, delay
}
