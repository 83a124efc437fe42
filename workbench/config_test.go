package workbench

import (
	"io"
	"strings"
	"testing"

	"github.com/glomers/glomers/workbench/process"
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
