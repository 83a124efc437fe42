//go:build unix

package kafka

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system, all threads, GC included)
// the test process has used so far, so benchmarks can report a figure
// that does not grow when other programs load the machine.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
