package cli

import (
	"runtime/debug"
	"strings"
)

// versionLine is what `glomers --version` prints: the module version
// (a tag such as v1.2.0 for `go install …@v1.2.0`, a pseudo-version or
// "(devel)" for a build from a checkout), then the VCS revision, with
// "(modified)" when the work tree had uncommitted changes, the commit
// time and the Go version, as far as info records them.
func versionLine(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "glomers (unknown version: built without module support)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	parts := []string{"glomers", version}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		parts = append(parts, "revision", rev)
		if settings["vcs.modified"] == "true" {
			parts = append(parts, "(modified)")
		}
		if t := settings["vcs.time"]; t != "" {
			parts = append(parts, "of", t)
		}
	} else {
		parts = append(parts, "(no VCS revision recorded)")
	}
	if info.GoVersion != "" {
		parts = append(parts, "built with", info.GoVersion)
	}
	return strings.Join(parts, " ")
}
