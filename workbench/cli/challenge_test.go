package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --maelstrom sends the official command line to the tool given and reads
// its verdict and figures back; --bin-dir finds binaries by the pages' names.
func TestChallengeThroughAnotherMaelstrom(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "maelstrom-echo")
	os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	argsFile := filepath.Join(dir, "args")
	tool := filepath.Join(dir, "maelstrom")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\n" +
		"echo ' :net {:servers {:send-count 10, :msgs-per-op 0.5}, :valid? true}'\n" +
		"echo 'Everything looks good!'\nexit 0\n"
	os.WriteFile(tool, []byte(script), 0o755)

	code, out, stderr := run(t, "challenge", "1", "--bin-dir", dir, "--maelstrom", tool)
	if code != ExitValid {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	got, _ := os.ReadFile(argsFile)
	want := "test -w echo --bin " + bin + " --node-count 1 --time-limit 10"
	if strings.TrimSpace(string(got)) != want {
		t.Errorf("the tool got %q, want %q", got, want)
	}
	if !strings.Contains(out, "real Maelstrom") || !strings.Contains(out, "0.50") {
		t.Errorf("scoreboard lacks the tool's figures:\n%s", out)
	}

	// An invalid verdict (exit 1) is reported as such and fails the command.
	os.WriteFile(tool, []byte("#!/bin/sh\necho 'Analysis invalid!'\nexit 1\n"), 0o755)
	code, out, _ = run(t, "challenge", "1", "--bin-dir", dir, "--maelstrom", tool)
	if code != ExitInvalid || !strings.Contains(out, "false") {
		t.Errorf("invalid run: exit %d\n%s", code, out)
	}
}

// A challenge without a binary is skipped, not failed.
func TestChallengeWithoutBinaryIsSkipped(t *testing.T) {
	code, out, _ := run(t, "challenge", "5a", "--bin-dir", t.TempDir())
	if code != ExitValid || !strings.Contains(out, "skipped") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
