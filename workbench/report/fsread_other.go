//go:build !unix

package report

// openFlags: elsewhere there are no FIFOs to open in the store.
const openFlags = 0
