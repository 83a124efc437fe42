//go:build linux

package process

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// Linux prctl options (linux/prctl.h); the syscall package lacks them.
const (
	prSetChildSubreaper = 36
	prGetChildSubreaper = 37
)

// BecomeSubreaper makes this process the child subreaper of everything it
// starts (Linux's PR_SET_CHILD_SUBREAPER): a process a node starts and
// leaves behind, even in a session of its own (setsid), is reparented to
// the bench rather than to init, so that ReapOrphans can end it. The
// setting is process-wide: only a program's main should call it, once,
// before any node starts; a bench used as a library (or by tests run in
// parallel) leaves it off, and ReapOrphans then does nothing.
func BecomeSubreaper() error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", errno)
	}
	return nil
}

func isSubreaper() bool {
	var on int32
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prGetChildSubreaper, uintptr(unsafe.Pointer(&on)), 0)
	return errno == 0 && on != 0
}

// ReapOrphans ends what the nodes of a finished run left behind: when
// this process is a subreaper (see BecomeSubreaper) every child it still
// has is a descendant of a node, reparented here when its parent died,
// or a node the bench already killed; each is SIGKILLed with its process
// group and reaped, and so are their own children as they are reparented
// in turn, for up to two seconds. Call it only when no node of this
// process runs: it cannot tell a live node from an orphan. It returns how
// many processes it reaped.
func ReapOrphans() int {
	if !isSubreaper() {
		return 0
	}
	self, ownGroup := os.Getpid(), syscall.Getpgrp()
	reaped := 0
	deadline := time.Now().Add(2 * time.Second)
	for {
		kids := childrenOf(self)
		if len(kids) == 0 || time.Now().After(deadline) {
			return reaped
		}
		for _, k := range kids {
			if k.pgrp > 1 && k.pgrp != ownGroup {
				_ = syscall.Kill(-k.pgrp, syscall.SIGKILL)
			}
			_ = syscall.Kill(k.pid, syscall.SIGKILL)
		}
		for _, k := range kids {
			var ws syscall.WaitStatus
			if pid, _ := syscall.Wait4(k.pid, &ws, syscall.WNOHANG, nil); pid == k.pid {
				reaped++
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type child struct{ pid, pgrp int }

// childrenOf lists the processes whose parent is ppid, from /proc.
func childrenOf(ppid int) []child {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []child
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == ppid {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold anything, so
		// the fields are counted from the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+1:])
		if len(f) < 3 {
			continue
		}
		parent, _ := strconv.Atoi(string(f[1]))
		pgrp, _ := strconv.Atoi(string(f[2]))
		if parent == ppid {
			out = append(out, child{pid, pgrp})
		}
	}
	return out
}
