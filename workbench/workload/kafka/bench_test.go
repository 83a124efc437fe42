package kafka

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/glomers/glomers/workbench/checker/checkertest"
	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// kafkaSim synthesises the history of a kafka run against a correct
// service, shaped like Maelstrom's kafka workload: 4 client threads (2
// nodes, concurrency 2n), ops released about every 1.15 ms for 60 s (so
// about 52,000 operations, half sends and half polls), keys drawn from a
// pool of 10 with exponential skew and retired after 16 sends, assigns
// 1/64 of the time (a third with catch-up keys), crashes every few
// seconds, a few :info sends, and a final phase in which every thread
// crashes, seeks to the beginning and polls until caught up. Offsets are
// sparse when sparse is set: hybrid-clock offsets near 1.7e15.
type kafkaSim struct {
	rng    *rand.Rand
	sparse bool
	now    int64 // ns
	ops    []history.Op

	// the service
	logs    map[string][]kafkaSimEntry
	nextOff map[string]int64
	// the generator
	pool               []int64 // active keys
	sends              map[int64]int
	nextMsg            map[int64]int64
	maxKey             int64
	sentMax, polledMax map[string]int64
	threads            []*kafkaSimThread
	nextCrash          int64
}

type kafkaSimEntry struct{ off, msg int64 }

type kafkaSimThread struct {
	process int
	offsets map[string]int64
	order   []string // assigned keys
	op      *kafkaSimOp
}

// kafkaSimOp is an operation in flight: it takes effect on the service
// at effectAt and completes at doneAt.
type kafkaSimOp struct {
	effectAt, doneAt int64
	effect, complete func()
	effected         bool
}

func newKafkaSim(seed uint64, sparse bool) *kafkaSim {
	s := &kafkaSim{
		rng: rand.New(rand.NewPCG(seed, 7)), sparse: sparse,
		logs: map[string][]kafkaSimEntry{}, nextOff: map[string]int64{},
		sends: map[int64]int{}, nextMsg: map[int64]int64{},
		sentMax: map[string]int64{}, polledMax: map[string]int64{},
	}
	for i := range 10 {
		s.pool = append(s.pool, int64(i))
	}
	s.maxKey = 9
	for i := range 4 {
		s.threads = append(s.threads, &kafkaSimThread{process: i, offsets: map[string]int64{}})
	}
	return s
}

func (s *kafkaSim) emit(op history.Op) {
	op.Index = len(s.ops)
	s.ops = append(s.ops, op)
}

// drawPos picks a pool position: position i with weight 2^(i+1).
func (s *kafkaSim) drawPos() int {
	r := s.rng.IntN(1<<(len(s.pool)+1) - 2)
	for i := range s.pool {
		r -= 1 << (i + 1)
		if r < 0 {
			return i
		}
	}
	return len(s.pool) - 1
}

// append puts msg in key's log and returns its offset.
func (s *kafkaSim) append(key string, msg int64, at int64) int64 {
	off := s.nextOff[key]
	if s.sparse {
		off = max(off, 1_700_000_000_000_000+at/1000)
	}
	s.nextOff[key] = off + 1
	s.logs[key] = append(s.logs[key], kafkaSimEntry{off, msg})
	return off
}

// poll reads every message at or after the thread's offsets.
func (s *kafkaSim) poll(th *kafkaSimThread) map[string]any {
	reply := map[string]any{}
	for _, k := range th.order {
		from := th.offsets[k]
		log := s.logs[k]
		i, _ := slices.BinarySearchFunc(log, from, func(e kafkaSimEntry, o int64) int {
			switch {
			case e.off < o:
				return -1
			case e.off > o:
				return 1
			}
			return 0
		})
		if i == len(log) {
			continue // leave keys with nothing out
		}
		pairs := make([]any, 0, len(log)-i)
		for _, e := range log[i:] {
			pairs = append(pairs, []any{e.off, e.msg})
		}
		reply[k] = pairs
		th.offsets[k] = log[len(log)-1].off + 1
		s.polledMax[k] = max(s.polledMax[k], log[len(log)-1].off)
	}
	return reply
}

// run runs the main phase for dur ns, releasing an op every
// uniform [0, 2·gap) ns to a free thread (the schedule slips while all
// four are busy), then the final phase.
func (s *kafkaSim) run(dur int64, gap int64) []history.Op {
	due := int64(0)
	for {
		// The earliest event in flight.
		var next *kafkaSimOp
		var nextTh *kafkaSimThread
		at := int64(1 << 62)
		var free *kafkaSimThread
		for _, th := range s.threads {
			op := th.op
			if op == nil {
				if free == nil {
					free = th
				}
				continue
			}
			t := op.doneAt
			if !op.effected {
				t = op.effectAt
			}
			if t < at {
				next, nextTh, at = op, th, t
			}
		}
		if free != nil && due <= at {
			if due >= dur {
				if next == nil {
					break
				}
			} else {
				s.now = due
				due += s.rng.Int64N(2 * gap)
				if s.now >= s.nextCrash {
					s.crash(free)
					s.nextCrash = s.now + s.rng.Int64N(15e9)
				} else {
					s.step(free)
				}
				continue
			}
		}
		if next == nil {
			due = max(due, at)
			continue
		}
		s.now = at
		if !next.effected {
			next.effected = true
			next.effect()
		} else {
			nextTh.op = nil
			next.complete()
		}
	}
	// Final phase: after 10 s, every thread crashes, seeks to the beginning
	// of every key and polls until it has seen every offset.
	s.now += 10e9
	var keys []string
	for k := range s.logs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, th := range s.threads {
		s.crash(th)
		s.assign(th, keys, true)
		s.finish(th)
		for caught := false; !caught; {
			s.pollOp(th)
			s.finish(th)
			caught = true
			for _, k := range keys {
				if th.offsets[k] < s.nextOff[k] {
					caught = false
				}
			}
			s.now += s.rng.Int64N(400e6)
		}
	}
	return s.ops
}

// finish runs th's op to completion now.
func (s *kafkaSim) finish(th *kafkaSimThread) {
	op := th.op
	th.op = nil
	s.now = op.effectAt
	op.effect()
	s.now = op.doneAt
	op.complete()
}

// start puts an op in flight on th: invoked now, taking effect halfway.
func (s *kafkaSim) start(th *kafkaSimThread, effect, complete func()) {
	d := s.latency()
	th.op = &kafkaSimOp{effectAt: s.now + d/2, doneAt: s.now + d, effect: effect, complete: complete}
}

func (s *kafkaSim) latency() int64 { return 200_000 + s.rng.Int64N(2_800_000) }

func (s *kafkaSim) crash(th *kafkaSimThread) {
	s.emit(history.Op{Time: s.now, Type: history.Invoke, Process: th.process, F: "crash"})
	s.emit(history.Op{Time: s.now, Type: history.Info, Process: th.process, F: "crash"})
	th.process += len(s.threads)
	th.offsets, th.order = map[string]int64{}, nil
	s.now++
}

// step starts the next workload op on th.
func (s *kafkaSim) step(th *kafkaSimThread) {
	pos := s.drawPos()
	send := s.rng.IntN(2) == 0
	key := s.pool[pos]
	if send && s.sends[key] >= 16 {
		s.maxKey++
		s.pool[pos] = s.maxKey
		s.step(th)
		return
	}
	if s.rng.IntN(64) == 0 {
		keys := []string{strconv.FormatInt(key, 10)}
		if s.rng.IntN(3) == 0 {
			var more []string
			for k, sm := range s.sentMax {
				if pm, ok := s.polledMax[k]; (!ok || sm > pm) && k != keys[0] {
					more = append(more, k)
				}
			}
			slices.Sort(more)
			keys = append(keys, more...)
		}
		s.assign(th, keys, false)
		return
	}
	if !send {
		s.pollOp(th)
		return
	}
	s.sends[key]++
	s.nextMsg[key]++
	k, m := strconv.FormatInt(key, 10), s.nextMsg[key]
	s.emit(history.Op{Time: s.now, Type: history.Invoke, Process: th.process, F: "send", Value: kSend(k, m)})
	var off int64
	s.start(th, func() { off = s.append(k, m, s.now) }, func() {
		if s.rng.IntN(500) == 0 { // the reply was lost
			s.emit(history.Op{Time: s.now, Type: history.Info, Process: th.process, F: "send", Value: kSend(k, m),
				Error: edn.Keyword("net-timeout")})
			th.process += len(s.threads)
			th.offsets, th.order = map[string]int64{}, nil
			return
		}
		s.emit(history.Op{Time: s.now, Type: history.OK, Process: th.process, F: "send", Value: kSendOK(k, off, m)})
		s.sentMax[k] = max(s.sentMax[k], off)
	})
}

func (s *kafkaSim) pollOp(th *kafkaSimThread) {
	s.emit(history.Op{Time: s.now, Type: history.Invoke, Process: th.process, F: "poll", Value: kPoll()})
	var reply map[string]any
	s.start(th, func() { reply = s.poll(th) }, func() {
		s.emit(history.Op{Time: s.now, Type: history.OK, Process: th.process, F: "poll",
			Value: []any{[]any{edn.Keyword("poll"), reply}}})
	})
}

func (s *kafkaSim) assign(th *kafkaSimThread, keys []string, seek bool) {
	v := make([]any, len(keys))
	for i, k := range keys {
		v[i] = k
	}
	var extra edn.Map
	if seek {
		extra = edn.K("seek-to-beginning?", true)
	}
	s.emit(history.Op{Time: s.now, Type: history.Invoke, Process: th.process, F: "assign", Value: v, Extra: extra})
	s.start(th, func() {
		old := th.offsets
		th.offsets, th.order = map[string]int64{}, keys
		for _, k := range keys {
			th.offsets[k] = 0 // Maelstrom's client restarts new keys at 0
			if o, ok := old[k]; ok && !seek {
				th.offsets[k] = o
			}
		}
	}, func() {
		done := extra
		if !seek {
			done = edn.K("committed-offsets", map[string]any{})
		}
		s.emit(history.Op{Time: s.now, Type: history.OK, Process: th.process, F: "assign", Value: v, Extra: done})
	})
}

// kafkaBenchHistory is a 60 s, --rate 1000-like history.
func kafkaBenchHistory(sparse bool) []history.Op {
	return newKafkaSim(1, sparse).run(60e9, 1_150_000)
}

func TestKafkaSimulatedRunIsValid(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	for _, sparse := range []bool{false, true} {
		ops := newKafkaSim(2, sparse).run(5e9, 1_150_000)
		res := Check(ops)
		if v, _ := res.Get(edn.Keyword("valid?")); v != true {
			t.Fatalf("sparse=%v: simulated run is not valid: %.2000s", sparse, checkertest.Show(res))
		}
	}
}

func benchmarkKafka(b *testing.B, sparse bool) {
	ops := kafkaBenchHistory(sparse)
	n := 0
	for _, op := range ops {
		if op.Type != history.Invoke && (op.F == "send" || op.F == "poll") {
			n++
		}
	}
	cpu0, cpuOK := processCPU()
	for b.Loop() {
		res := Check(ops)
		if v, _ := res.Get(edn.Keyword("valid?")); v != true {
			b.Fatalf("not valid: %.1000s", checkertest.Show(res))
		}
	}
	if cpu1, ok := processCPU(); ok && cpuOK {
		// CPU seconds per check: unlike ns/op, this does not grow when other
		// programs load the machine.
		b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	}
	b.ReportMetric(float64(n), "send+poll-ops")
	b.ReportMetric(float64(len(ops)), "history-entries")
}

// BenchmarkKafka checks a history shaped like a 60 s, --rate 1000 kafka
// run on 2 nodes, with sparse (hybrid-clock) offsets.
func BenchmarkKafka(b *testing.B) { benchmarkKafka(b, true) }

// BenchmarkKafkaDenseOffsets is the same run with offsets 0, 1, 2, ...
func BenchmarkKafkaDenseOffsets(b *testing.B) { benchmarkKafka(b, false) }
