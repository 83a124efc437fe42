package kafka_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/glomers/glomers/node/nodetest"
	"github.com/glomers/glomers/solutions/kafka"
	"github.com/glomers/glomers/workbench/workbenchtest"
)

// cluster is a few kafka nodes joined by a lossy, reordering network of
// our own, inside a synctest bubble.
type cluster struct {
	t     *testing.T
	conns map[string]*nodetest.Conn
	ids   []string

	mu      sync.Mutex
	rng     *rand.Rand
	drop    float64       // probability of losing a node-to-node message
	maxLat  time.Duration // node-to-node latency is uniform in [0, maxLat)
	carried int           // node-to-node messages sent
}

func newCluster(t *testing.T, n int, seed uint64, drop float64, maxLat time.Duration) *cluster {
	cl := &cluster{t: t, conns: map[string]*nodetest.Conn{}, rng: rand.New(rand.NewPCG(seed, 7)), drop: drop, maxLat: maxLat}
	for i := range n {
		cl.ids = append(cl.ids, "n"+strconv.Itoa(i))
	}
	for _, id := range cl.ids {
		cl.conns[id] = start(t, id, cl.ids)
	}
	for _, id := range cl.ids {
		go cl.route(cl.conns[id])
	}
	return cl
}

// route carries every message c's node sends to its destination, after a
// random delay, unless the network loses it.
func (cl *cluster) route(c *nodetest.Conn) {
	for {
		m, err := c.Recv(context.Background())
		if err != nil {
			return
		}
		cl.mu.Lock()
		cl.carried++
		lost := cl.rng.Float64() < cl.drop
		var d time.Duration
		if cl.maxLat > 0 {
			d = time.Duration(cl.rng.Int64N(int64(cl.maxLat)))
		}
		cl.mu.Unlock()
		dest := cl.conns[m.Dest]
		if lost || dest == nil {
			continue
		}
		go func() {
			time.Sleep(d)
			_ = dest.Send(m.Src, m.Body) // fails only once the test is over
		}()
	}
}

// pollResult is one poll a process made: what it asked and what it got.
type pollResult struct {
	from map[string]int64
	got  map[string][][2]int64
}

// clientRun is the record of one process.
type clientRun struct {
	sends map[string][]int64 // key → offsets its sends got, in order
	polls []pollResult
}

// drive runs procs client processes against cl for ops operations each, as
// Maelstrom's kafka client does: a process always talks to one node, polls
// every key from the offset after the last one it polled, and commits what
// it polled. It returns the records and every send's offset and message.
func drive(t *testing.T, cl *cluster, procs, ops, keys int, seed uint64) ([]clientRun, map[string]map[int64]int64) {
	runs := make([]clientRun, procs)
	sent := map[string]map[int64]int64{} // key → offset → msg
	var mu sync.Mutex
	next := map[string]int64{} // key → last message sent
	var wg sync.WaitGroup
	for p := range procs {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(p)))
			c := cl.conns[cl.ids[p%len(cl.ids)]]
			src := "c" + strconv.Itoa(p)
			run := clientRun{sends: map[string][]int64{}}
			offsets := map[string]int64{}
			for k := range keys {
				offsets[strconv.Itoa(k)] = 0
			}
			for range ops {
				time.Sleep(time.Duration(rng.Int64N(int64(4 * time.Millisecond))))
				if rng.IntN(2) == 0 {
					k := strconv.Itoa(rng.IntN(keys))
					mu.Lock()
					next[k]++
					m := next[k]
					mu.Unlock()
					r := call(t, c, src, map[string]any{"type": "send", "key": k, "msg": m})
					off := int64(r["offset"].(float64))
					run.sends[k] = append(run.sends[k], off)
					mu.Lock()
					if sent[k] == nil {
						sent[k] = map[int64]int64{}
					}
					if prev, ok := sent[k][off]; ok {
						t.Errorf("key %s offset %d given to messages %d and %d", k, off, prev, m)
					}
					sent[k][off] = m
					mu.Unlock()
					continue
				}
				got := pollMsgs(t, c, offsets)
				run.polls = append(run.polls, pollResult{from: maps(offsets), got: got})
				commit := map[string]int64{}
				for k, pairs := range got {
					last := pairs[len(pairs)-1][0]
					offsets[k] = max(offsets[k], last+1)
					commit[k] = last
				}
				if len(commit) > 0 {
					call(t, c, src, map[string]any{"type": "commit_offsets", "offsets": commit})
				}
			}
			runs[p] = run
		})
	}
	wg.Wait()
	return runs, sent
}

func maps(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// checkRuns checks the records against the final logs (every send was
// acknowledged, so the log of a key is exactly its sends): each message at
// its own offset, sends of a process increasing, every poll starting at the
// first offset at or after the one asked and listing consecutive entries.
func checkRuns(t *testing.T, runs []clientRun, sent map[string]map[int64]int64) {
	t.Helper()
	logs := map[string][]int64{}
	for k, m := range sent {
		for o := range m {
			logs[k] = append(logs[k], o)
		}
		slices.Sort(logs[k])
	}
	for p, run := range runs {
		for k, offs := range run.sends {
			if !slices.IsSorted(offs) || len(slices.Compact(slices.Clone(offs))) != len(offs) {
				t.Errorf("process %d: sends to %s got offsets %v, not increasing", p, k, offs)
			}
		}
		for _, pr := range run.polls {
			for k, pairs := range pr.got {
				log := logs[k]
				i, _ := slices.BinarySearch(log, pr.from[k])
				for j, pair := range pairs {
					if i+j >= len(log) || log[i+j] != pair[0] {
						t.Errorf("process %d: poll of %s from %d returned %v; the log is %v", p, k, pr.from[k], pairs, log)
						break
					}
					if sent[k][pair[0]] != pair[1] {
						t.Errorf("process %d: poll of %s shows %d at %d, but %d was sent there", p, k, pair[1], pair[0], sent[k][pair[0]])
					}
				}
			}
		}
	}
}

// checkFinal polls every key from 0 on every node and wants every log whole.
func checkFinal(t *testing.T, cl *cluster, sent map[string]map[int64]int64) {
	t.Helper()
	from := map[string]int64{}
	for k := range sent {
		from[k] = 0
	}
	for _, id := range cl.ids {
		got := pollMsgs(t, cl.conns[id], from)
		for k, m := range sent {
			if len(got[k]) != len(m) {
				t.Errorf("%s shows %d of the %d messages of key %s at the end", id, len(got[k]), len(m), k)
			}
		}
	}
}

// TestRandomHistories runs clients against 1–3 nodes over a network that
// delays, reorders and loses node-to-node messages, and checks what they
// saw against the final logs.
func TestRandomHistories(t *testing.T) {
	for _, tc := range []struct {
		nodes  int
		drop   float64
		maxLat time.Duration
	}{
		{1, 0, 0},
		{2, 0, 0},
		{2, 0, 30 * time.Millisecond},
		{2, 0.2, 30 * time.Millisecond},
		{3, 0.1, 50 * time.Millisecond},
	} {
		for seed := range uint64(seeds(t, 5, 50)) {
			t.Run(fmt.Sprintf("nodes=%d,drop=%v,lat=%v,seed=%d", tc.nodes, tc.drop, tc.maxLat, seed), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					cl := newCluster(t, tc.nodes, seed, tc.drop, tc.maxLat)
					runs, sent := drive(t, cl, 2*tc.nodes, 300, 4, seed)
					checkRuns(t, runs, sent)
					time.Sleep(15 * kafka.DefaultRetransmitAfter) // losses repaired, even with a few retries lost
					checkFinal(t, cl, sent)
					time.Sleep(5 * time.Second) // every retry answered, even after further losses
					cl.mu.Lock()
					before := cl.carried
					cl.mu.Unlock()
					time.Sleep(5 * time.Second)
					cl.mu.Lock()
					defer cl.mu.Unlock()
					if cl.carried != before {
						t.Errorf("idle nodes sent %d messages in 5 s", cl.carried-before)
					}
				})
			})
		}
	}
}

// seeds is how many seeds a test runs: quick by default, long in the long
// suite or with GLOMERS_KAFKA_SEEDS=N (N seeds).
func seeds(t *testing.T, quick, long int) int {
	return workbenchtest.Seeds(t, "GLOMERS_KAFKA_SEEDS", long, quick)
}
