//go:build unix

package elle

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used (all threads, GC
// included): on a shared machine it says what a check costs better than
// wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
