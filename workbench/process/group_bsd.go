//go:build unix && !linux

package process

import "syscall"

// sysProcAttr puts a node in a process group of its own, so that killing
// the group ends whatever the node started too. These systems have no
// parent-death signal: the bench stops its nodes itself when a run ends,
// on Ctrl-C and on SIGTERM, but a bench killed with SIGKILL leaves them
// running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
