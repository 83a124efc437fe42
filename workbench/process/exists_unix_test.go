//go:build unix

package process

import (
	"errors"
	"syscall"
)

// processExists reports whether a process with this pid still exists
// (signal 0 checks without sending anything).
func processExists(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
