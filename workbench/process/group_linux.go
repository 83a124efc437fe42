//go:build linux

package process

import "syscall"

// sysProcAttr puts a node in a process group of its own, so that killing
// the group ends whatever the node started too, and asks the kernel to
// SIGKILL the node should the bench die first (Linux's parent-death
// signal), so that no node outlives a bench that was itself killed.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
