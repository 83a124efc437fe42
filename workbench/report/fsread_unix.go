//go:build unix

package report

import "syscall"

// openFlags opens store files without blocking, so that opening a FIFO
// returns at once instead of waiting for a writer.
const openFlags = syscall.O_NONBLOCK
