package workbench

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/glomers/glomers/workbench/netsim"
	"github.com/glomers/glomers/workbench/process"
	"github.com/glomers/glomers/workbench/topology"
)

// The pause fault needs SIGSTOP for a binary: where the platform has none
// (Windows) the configuration is refused with one line that says why;
// elsewhere it is accepted. In-process nodes can always be paused.
func TestPauseFaultNeedsSIGSTOPForBinaries(t *testing.T) {
	cfg := Config{Workload: "echo", Bin: "/bin/true", Nemesis: []string{"pause"}}
	cfg.Defaults()
	err := cfg.Validate()
	if process.PauseSupported {
		if err != nil {
			t.Fatalf("pause refused on a platform that has SIGSTOP: %v", err)
		}
	} else if err == nil || !strings.Contains(err.Error(), "SIGSTOP") {
		t.Fatalf("pause accepted (or refused without saying why) on a platform without SIGSTOP: %v", err)
	}
	cfg.Bin, cfg.Node = "", func(stdin io.Reader, stdout, stderr io.Writer) error { return nil }
	if err := cfg.Validate(); err != nil {
		t.Fatalf("pause refused for an in-process node: %v", err)
	}
}

// Defaults fills a zero Config with Maelstrom 0.2.4's defaults
// (core.clj's opt-spec, Jepsen's cli.clj), and leaves alone the fields
// whose zero value means something: Rate 0 runs no operations,
// StoreRoot "" stores nothing, KeyCount 0 and Seed 0 are decided later.
func TestDefaultsAreMaelstroms(t *testing.T) {
	var c Config
	c.Defaults()
	want := Config{
		Workload:          "lin-kv",
		NodeIDs:           []string{"n1", "n2", "n3", "n4", "n5"},
		Concurrency:       5, // 1n
		TimeLimit:         60 * time.Second,
		LatencyDist:       "constant",
		NemesisInterval:   10 * time.Second,
		Topology:          "grid",
		MaxTxnLength:      4,
		MaxWritesPerKey:   16,
		ConsistencyModels: []string{"strict-serializable"},
		RecoveryWait:      10 * time.Second,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Defaults gave\n%+v\nwant\n%+v", c, want)
	}
	// The command line's own defaults.
	if DefaultRate != 5 || DefaultStoreRoot != "store" || DefaultConcurrency != "1n" {
		t.Errorf("--rate %v, --store %q, --concurrency %q; want 5, store, 1n", DefaultRate, DefaultStoreRoot, DefaultConcurrency)
	}
	// Set fields stay as they are; concurrency follows the node count.
	c = Config{Workload: "echo", NodeIDs: []string{"a", "b"}, TimeLimit: time.Second, Topology: "line", MaxTxnLength: 2}
	c.Defaults()
	if c.Workload != "echo" || len(c.NodeIDs) != 2 || c.Concurrency != 2 || c.TimeLimit != time.Second || c.Topology != "line" || c.MaxTxnLength != 2 {
		t.Errorf("Defaults changed set fields: %+v", c)
	}
	// DefaultNodeIDs hands out a fresh list each time.
	DefaultNodeIDs()[0] = "x"
	if DefaultNodeIDs()[0] != "n1" {
		t.Error("DefaultNodeIDs shares its list")
	}
}

func TestParseConcurrency(t *testing.T) {
	for _, c := range []struct {
		spec  string
		nodes int
		want  int // 0: refused
	}{
		{"1n", 5, 5}, {"2n", 25, 50}, {"7", 25, 7}, {"10", 1, 10},
		{"0", 5, 0}, {"0n", 5, 0}, {"2x", 5, 0}, {"n", 5, 0}, {"-1", 5, 0}, {"", 5, 0}, {" 2n", 5, 0},
	} {
		got, err := ParseConcurrency(c.spec, c.nodes)
		if c.want == 0 {
			if err == nil || !strings.Contains(err.Error(), "--concurrency") {
				t.Errorf("ParseConcurrency(%q, %d) = %d, %v; want an error about --concurrency", c.spec, c.nodes, got, err)
			}
		} else if err != nil || got != c.want {
			t.Errorf("ParseConcurrency(%q, %d) = %d, %v; want %d", c.spec, c.nodes, got, err, c.want)
		}
	}
}

// Validate knows every name the configuration takes, lists them when
// one is wrong, and guesses the one meant.
func TestValidateNamesAndBounds(t *testing.T) {
	for _, c := range []struct {
		edit func(*Config)
		want []string
	}{
		{func(c *Config) { c.Topology = "gird" }, []string{`"gird"`, strings.Join(topology.Names(), ", "), "did you mean grid?"}},
		{func(c *Config) { c.Topology = "star" }, []string{`"star"`, "--topology"}},
		{func(c *Config) { c.Workload = "lin-k" }, []string{`unknown workload "lin-k"`, "did you mean lin-kv?"}},
		{func(c *Config) { c.LatencyDist = "normal" }, []string{`"normal"`, strings.Join(netsim.Dists(), ", ")}},
		{func(c *Config) { c.MaxTxnLength = -1 }, []string{"--max-txn-length"}},
		{func(c *Config) { c.MaxWritesPerKey = -1 }, []string{"--max-writes-per-key"}},
		{func(c *Config) { c.KeyCount = -1 }, []string{"--key-count"}},
		{func(c *Config) { c.Rate = -1 }, []string{"--rate"}},
	} {
		cfg := Config{Workload: "echo", Bin: "/bin/true"}
		cfg.Defaults()
		if err := cfg.Validate(); err != nil {
			t.Fatalf("the base configuration is refused: %v", err)
		}
		c.edit(&cfg)
		err := cfg.Validate()
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %v lacks %q", cfg, err, w)
			}
		}
		if err != nil && strings.Contains(c.want[0], "star") && strings.Contains(err.Error(), "did you mean") {
			t.Errorf("a guess for a name near none: %v", err)
		}
	}
	// Rate 0 is valid: a test with no client operations.
	cfg := Config{Workload: "echo", Bin: "/bin/true", Rate: 0}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		t.Errorf("rate 0 refused: %v", err)
	}
}
