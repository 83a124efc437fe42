//go:build windows

package process

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// PauseSupported reports whether this platform can pause a node's process.
// Windows has no SIGSTOP, so the pause fault is refused for binaries here.
const PauseSupported = false

// errNoPause is returned by stopGroup and continueGroup on Windows.
var errNoPause = errors.New("pausing a process is not supported on windows (it needs SIGSTOP)")

// sysProcAttr starts a node in a process group of its own. Windows has no
// parent-death signal: the bench stops its nodes itself when a run ends
// and on Ctrl-C, but a bench that is killed outright leaves them running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// killGroup ends the node and the processes it started: taskkill /T walks
// the tree of children; if that fails the node itself is killed.
func killGroup(proc *os.Process) {
	tk := exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(proc.Pid))
	if err := tk.Run(); err != nil {
		_ = proc.Kill()
	}
}

func stopGroup(int) error { return errNoPause }

func continueGroup(int) error { return errNoPause }
