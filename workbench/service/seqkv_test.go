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

// TestSeqKVServesStaleReadsUntilTheCallerWrites shows the behaviour
// solutions of the g-counter challenge must cope with: a node that has
// not observed the newest state reads an older one, its view only moves
// forward, and a write of its own makes its next read fresh.
func TestSeqKVServesStaleReadsUntilTheCallerWrites(t *testing.T) {
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
		prev, stale := int64(-1), false
		for range 30 {
			got := readInt(t, s, "n2", "x")
			if got < prev {
				t.Fatalf("seed %d: n2's view went backwards: %d after %d", seed, got, prev)
			}
			// Maelstrom picks j in [i, last): a lagging reader never reaches
			// the newest state by reading alone.
			if got == 10 {
				t.Fatalf("seed %d: n2 saw the newest state without writing", seed)
			}
			stale = stale || got < 10
			prev = got
		}
		if stale {
			staleSeeds++
		}
		// Any mutating request catches the caller up.
		write(t, s, "n2", "scratch", seed)
		if got := readInt(t, s, "n2", "x"); got != 10 {
			t.Fatalf("seed %d: after its own write n2 reads %d, want 10", seed, got)
		}
	}
	if staleSeeds != 40 {
		t.Errorf("stale reads in %d of 40 seeds, want all", staleSeeds)
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
// without the write reaching the newest state, so n2 still reads 2.
func TestSeqKVWriteOrderedInThePast(t *testing.T) {
	for seed := range uint64(10) {
		s := mustNew(t, SeqKV, seed)
		write(t, s, "n1", "x", 1)
		if got := call(t, s, "n2", `{"type":"cas","key":"x","from":1,"to":2}`); got != `{"code":20,"text":"key does not exist","type":"error"}` {
			// n2 has observed only S0, in which x is missing.
			t.Fatalf("seed %d: n2's first cas = %s, want code 20 from the empty state", seed, got)
		}
		// Having failed, n2 has still observed S0 only; a write brings it up to date.
		write(t, s, "n2", "scratch", 0)
		if got := call(t, s, "n2", `{"type":"cas","key":"x","from":1,"to":2}`); got != `{"type":"cas_ok"}` {
			t.Fatalf("seed %d: n2's cas = %s", seed, got)
		}
		// n1 last observed the state with x=1: its write of 1 changes nothing there.
		write(t, s, "n1", "x", 1)
		if got := readInt(t, s, "n2", "x"); got != 2 {
			t.Fatalf("seed %d: n2 reads %d, want 2 (n1's write ordered in the past)", seed, got)
		}
		if got := readInt(t, s, "n1", "x"); got != 1 {
			t.Fatalf("seed %d: n1 reads %d, want its stale 1", seed, got)
		}
		// Even fully caught up, n2 finds that the write never reached the newest state.
		write(t, s, "n2", "scratch", 1)
		if got := readInt(t, s, "n2", "x"); got != 2 {
			t.Fatalf("seed %d: caught-up n2 reads %d, want 2", seed, got)
		}
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
