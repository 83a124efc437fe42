package cli

import (
	"strings"
	"testing"
)

// A first build's output becomes a status that says what it is doing:
// the module being downloaded, then the package being compiled with a
// count; other lines (errors) change nothing but are kept for the report.
func TestBuildStepFollowsGoBuild(t *testing.T) {
	var b buildStep
	if got := b.String(); got != "building" {
		t.Errorf("before any output: %q", got)
	}
	b.line("go: downloading gonum.org/v1/plot v0.17.0")
	if got := b.String(); got != "downloading module gonum.org/v1/plot v0.17.0" {
		t.Errorf("after a download line: %q", got)
	}
	b.line("github.com/glomers/glomers/node")
	b.line("github.com/glomers/glomers/cmd/echo")
	if got := b.String(); got != "compiling github.com/glomers/glomers/cmd/echo (2 packages so far)" {
		t.Errorf("after two packages: %q", got)
	}
	b.line("# github.com/glomers/glomers/cmd/echo")
	b.line("cmd/echo/main.go:3:2: undefined: x")
	if got := b.String(); !strings.HasPrefix(got, "compiling github.com/glomers/glomers/cmd/echo") {
		t.Errorf("an error line changed the status: %q", got)
	}
	if !strings.Contains(b.out.String(), "undefined: x") {
		t.Errorf("the error was not kept for the report: %q", b.out.String())
	}
}
