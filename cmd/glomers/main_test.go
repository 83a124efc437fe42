package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A glomers built from a checkout without VCS stamping says so: module
// version "(devel)", no revision, and the Go it was built with. (With
// stamping, the revision line's format is TestVersionLine's, in
// workbench/cli.)
func TestVersionOfACheckoutBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "glomers")
	build := exec.Command("go", "build", "-buildvcs=false", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	want := "glomers (devel) (no VCS revision recorded) built with " + runtime.Version() + "\n"
	for _, arg := range []string{"--version", "version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil || string(out) != want {
			t.Errorf("glomers %s: %q, %v; want %q", arg, out, err, want)
		}
	}
	out, _ := exec.Command(bin, "--versoin").CombinedOutput()
	if !strings.Contains(string(out), "did you mean version?") {
		t.Errorf("glomers --versoin: %q", out)
	}
}
