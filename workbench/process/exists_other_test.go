//go:build !unix

package process

import "os"

// processExists reports whether a process with this pid can still be
// found.
func processExists(pid int) bool {
	_, err := os.FindProcess(pid)
	return err == nil
}
