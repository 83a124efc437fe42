package service

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/glomers/glomers/workbench/history"
)

// readInt reads key from s as src and returns the integer value, or -1 when
// the key does not exist.
func readInt(t *testing.T, s Service, src string, key any) int64 {
	t.Helper()
	reply, ok := s.Handle(src, map[string]any{"type": "read", "key": key})
	if !ok {
		t.Fatalf("no reply to read")
	}
	if reply["type"] == "error" {
		if reply["code"] != CodeKeyDoesNotExist {
			t.Fatalf("read error %v", reply)
		}
		return -1
	}
	v, ok := history.Int(reply["value"])
	if !ok {
		t.Fatalf("read value %v is not an integer", reply["value"])
	}
	return v
}

func write(t *testing.T, s Service, src string, key, value any) {
	t.Helper()
	reply, ok := s.Handle(src, map[string]any{"type": "write", "key": key, "value": value})
	if !ok || reply["type"] != "write_ok" {
		t.Fatalf("write %v=%v: %v %v", key, value, reply, ok)
	}
}

// TestSeqKVServesStaleReadsThatCatchUp shows the behaviour solutions of
// the g-counter challenge must cope with: a node that has not observed the
// newest state may read an older one, its view only moves forward, and —
// as in Maelstrom 0.2.4, whose Sequential/handle! draws the state from
// [i_c, last] inclusive — a node that only reads reaches the newest state
// after a few reads; a write of its own makes its next read fresh at once.
func TestSeqKVServesStaleReadsThatCatchUp(t *testing.T) {
	staleSeeds := 0
	for seed := range uint64(40) {
		s := mustNew(t, SeqKV, seed)
		for v := int64(1); v <= 10; v++ {
			write(t, s, "n1", "x", v)
		}
		// The writer's own view is current.
		if got := readInt(t, s, "n1", "x"); got != 10 {
			t.Fatalf("seed %d: writer reads %d, want 10", seed, got)
		}
		prev, reads := int64(-1), 0
		for prev != 10 {
			got := readInt(t, s, "n2", "x")
			reads++
			if got < prev {
				t.Fatalf("seed %d: n2's view went backwards: %d after %d", seed, got, prev)
			}
			prev = got
			// Each read halves the distance to the newest state on
			// average; 64 reads that never arrive mean the newest
			// state cannot be drawn.
			if reads == 64 {
				t.Fatalf("seed %d: a reader that only reads never caught up in 64 reads (stuck at %d)", seed, got)
			}
		}
		if reads > 1 {
			staleSeeds++
		}
		// Once current, it stays current while nobody writes.
		if got := readInt(t, s, "n2", "x"); got != 10 {
			t.Fatalf("seed %d: caught-up n2 reads %d, want 10", seed, got)
		}
		// A third node catches up at once with a mutating request.
		write(t, s, "n3", "scratch", seed)
		if got := readInt(t, s, "n3", "x"); got != 10 {
			t.Fatalf("seed %d: after its own write n3 reads %d, want 10", seed, got)
		}
	}
	// The first read of a node eleven states behind is the newest with
	// probability 1/11: most seeds must have served at least one stale read.
	if staleSeeds < 30 {
		t.Errorf("stale reads in only %d of 40 seeds; seq-kv should usually serve an older state first", staleSeeds)
	}
}

// TestSeqKVViewsAreMonotonicUnderMixedLoad interleaves writers and readers
// at random. Values written are increasing, so the value a caller reads
// identifies the state it was served; each caller's sequence must never
// decrease, and a caller's read right after its own write must be fresh.
func TestSeqKVViewsAreMonotonicUnderMixedLoad(t *testing.T) {
	callers := []string{"n0", "n1", "n2", "n3"}
	for seed := range uint64(10) {
		s := mustNew(t, SeqKV, seed)
		rng := newRand(seed + 1000)
		next := int64(0)
		seen := map[string]int64{}
		for _, c := range callers {
			seen[c] = -1
		}
		for range 400 {
			c := callers[rng.IntN(len(callers))]
			if rng.IntN(4) == 0 {
				write(t, s, c, "k", next)
				if got := readInt(t, s, c, "k"); got != next {
					t.Fatalf("seed %d: %s wrote %d and then read %d", seed, c, next, got)
				}
				seen[c] = next
				next++
				continue
			}
			got := readInt(t, s, c, "k")
			if got < seen[c] {
				t.Fatalf("seed %d: %s read %d after having seen %d", seed, c, got, seen[c])
			}
			seen[c] = got
		}
	}
}

// TestSeqKVWriteOrderedInThePast reproduces the documentation's example:
// n1 writes x=1, n2 CASes 1→2, n1 writes 1 again and is acknowledged
// without the write reaching the newest state (it is served a state where
// x is already 1, so nothing changes), so n2 still reads 2.
func TestSeqKVWriteOrderedInThePast(t *testing.T) {
	inThePast := 0
	for seed := range uint64(30) {
		s := newSeqKV(newRand(seed))
		write(t, s, "n1", "x", 1)       // S1; n1 has observed S1
		write(t, s, "n2", "scratch", 0) // S2; n2 is current
		if got := call(t, s, "n2", `{"type":"cas","key":"x","from":1,"to":2}`); got != `{"type":"cas_ok"}` {
			t.Fatalf("seed %d: current n2's cas = %s", seed, got)
		}
		// S3 has x=2. n1 is served one of S1, S2 (x=1: the write changes
		// nothing there and is acknowledged in the past) or S3 (x=2: the
		// write is applied to the newest state, making S4).
		before := s.last
		write(t, s, "n1", "x", 1)
		if s.last == before {
			inThePast++
			if got := readInt(t, s, "n2", "x"); got != 2 {
				t.Fatalf("seed %d: n2 reads %d, want 2 (n1's write ordered in the past)", seed, got)
			}
		} else if got := readInt(t, s, "n2", "x"); got != 2 && got != 1 {
			t.Fatalf("seed %d: n2 reads %d, want 2 or the newer 1", seed, got)
		}
		if got := readInt(t, s, "n1", "x"); got != 1 && got != 2 {
			t.Fatalf("seed %d: n1 reads %d", seed, got)
		}
	}
	// Two of the three states n1 can be served order the write in the past.
	if inThePast < 10 || inThePast == 30 {
		t.Errorf("write ordered in the past in %d of 30 seeds, want about 20", inThePast)
	}
}

// TestSeqKVCasOnStaleStateIsRetriedOnTheNewest covers step 4: a cas that
// would succeed on the stale state is evaluated again on the newest one,
// where it may fail.
func TestSeqKVCasOnStaleStateIsRetriedOnTheNewest(t *testing.T) {
	hit := false
	for seed := uint64(0); seed < 50 && !hit; seed++ {
		s := mustNew(t, SeqKV, seed)
		write(t, s, "w", "x", 1) // S1
		write(t, s, "w", "x", 2) // S2
		got := call(t, s, "r", `{"type":"cas","key":"x","from":1,"to":3}`)
		switch got {
		case `{"code":20,"text":"key does not exist","type":"error"}`:
			// Served S0; nothing changed, r stays behind.
		case `{"code":22,"text":"current value 2 is not 1","type":"error"}`:
			// Served S1, where it would have succeeded; retried on S2 and
			// failed there. The retry made r current.
			hit = true
			if v := readInt(t, s, "r", "x"); v != 2 {
				t.Fatalf("seed %d: after the retried cas r reads %d, want 2", seed, v)
			}
		default:
			t.Fatalf("seed %d: cas = %s; the write must never apply to a stale state", seed, got)
		}
	}
	if !hit {
		t.Error("no seed in 50 served the cas from S1")
	}
}

// TestSeqKVRingBufferModularIndex covers the 32-state buffer: a caller 40
// states behind is served the buffered state congruent to its pick modulo
// 32, so it never sees the long-gone empty state, never a state older than
// 31 back, and sometimes even the newest state.
func TestSeqKVRingBufferModularIndex(t *testing.T) {
	sawNewest := false
	for seed := range uint64(200) {
		s := mustNew(t, SeqKV, seed)
		for v := int64(1); v <= 40; v++ {
			write(t, s, "w", "x", v) // S_v has x = v
		}
		got := readInt(t, s, "r", "x")
		if got < 40-31 {
			t.Fatalf("seed %d: read %d, older than the 32 buffered states", seed, got)
		}
		sawNewest = sawNewest || got == 40
	}
	if !sawNewest {
		t.Error("no lagging reader was served the newest state through the modular index")
	}
}

func TestSeqKVKeepsBoundedHistory(t *testing.T) {
	s := newSeqKV(newRand(1))
	for v := range 500 {
		s.Handle("w", map[string]any{"type": "write", "key": "x", "value": json.Number(fmt.Sprint(v))})
	}
	if n := len(s.versions[history.Key("x")]); n > seqStates+1 {
		t.Errorf("key x keeps %d versions, want at most %d", n, seqStates+1)
	}
	if got := readInt(t, s, "w", "x"); got != 499 {
		t.Errorf("after pruning the writer reads %d, want 499", got)
	}
}

func TestSeqKVUnknownRequestChangesNothing(t *testing.T) {
	s := newSeqKV(newRand(1))
	write(t, s, "w", "x", 1)
	if got := call(t, s, "w", `{"type":"ts"}`); got != "<no reply>" {
		t.Errorf("seq-kv answered ts: %s", got)
	}
	if s.last != 1 || s.observed["w"] != 1 {
		t.Errorf("state moved on an unknown request: last %d observed %d", s.last, s.observed["w"])
	}
}
