//go:build unix

package process

import (
	"errors"
	"os"
	"syscall"
)

// PauseSupported reports whether this platform can pause a node's process
// (the pause fault: SIGSTOP, later SIGCONT).
const PauseSupported = true

// killGroup sends SIGKILL to the process group that proc leads: the node
// and everything it started, unless a descendant left the group.
func killGroup(proc *os.Process) {
	if err := syscall.Kill(-proc.Pid, syscall.SIGKILL); err != nil {
		_ = proc.Kill()
	}
}

// stopGroup freezes the process group pid leads (SIGSTOP).
func stopGroup(pid int) error {
	return syscall.Kill(-pid, syscall.SIGSTOP)
}

// continueGroup thaws the process group pid leads (SIGCONT); a group that
// is already gone is not an error.
func continueGroup(pid int) error {
	if err := syscall.Kill(-pid, syscall.SIGCONT); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
