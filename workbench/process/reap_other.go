//go:build !linux

package process

import "errors"

// BecomeSubreaper is Linux-only (PR_SET_CHILD_SUBREAPER). Elsewhere the
// bench kills each node's process group (on Windows, its process tree)
// when it stops the node, which ends everything the node started unless a
// descendant left the group (setsid) or outlived its parent on Windows:
// such a process is not the bench's to find.
func BecomeSubreaper() error {
	return errors.New("a child subreaper needs Linux")
}

// ReapOrphans does nothing where BecomeSubreaper is not supported.
func ReapOrphans() int { return 0 }
