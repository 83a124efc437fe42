package kafka

import (
	"bytes"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/glomers/glomers/workbench/workload"
)

// The kafka workload declares realtime-lag.png and draws it from a
// history's polls: process 0 sends to "k" while process 1 polls every
// other step and sees all but the last three messages.
func TestKafkaWritesRealtimeLagPlot(t *testing.T) {
	b := newBuilder()
	for i := range int64(200) {
		b.ksend(0, "k", i, i)
		if i%2 == 1 && i > 4 {
			var om []int64
			for o := int64(0); o <= i-3; o++ {
				om = append(om, o, o)
			}
			b.kpoll(1, "k", kPairs(om...))
		}
	}
	if lags := RealtimeLags(b.Ops); len(lags) < 50 {
		t.Fatalf("%d lag samples from the kafka history, want one per poll", len(lags))
	}
	w, err := New(&workload.Env{Nodes: []string{"n0"}, Concurrency: 2, Rand: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	fw, ok := w.(workload.FileWriter)
	if !ok {
		t.Fatal("the kafka workload declares no files")
	}
	files := fw.Files()
	if len(files) != 1 || files[0].Name != "realtime-lag.png" {
		t.Fatalf("files %v, want realtime-lag.png", files)
	}
	path := filepath.Join(t.TempDir(), files[0].Name)
	if err := files[0].Write(path, b.Ops); err != nil {
		t.Fatal(err)
	}
	if err := files[0].Write(path+".none", b.Ops[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".none"); err == nil {
		t.Error("a history without an :ok poll got a realtime-lag plot")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(raw)); err != nil || cfg.Width < 500 || cfg.Height < 250 {
		t.Errorf("%s: a %dx%d PNG (%v), want at least 500x250", path, cfg.Width, cfg.Height, err)
	}
}
