//go:build !unix && !windows

package process

import (
	"errors"
	"os"
	"syscall"
)

// PauseSupported reports whether this platform can pause a node's process.
const PauseSupported = false

var errNoPause = errors.New("pausing a process is not supported on this platform")

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

func killGroup(proc *os.Process) { _ = proc.Kill() }

func stopGroup(int) error { return errNoPause }

func continueGroup(int) error { return errNoPause }
