// Package sleep waits for a while, or until a context ends, whichever
// comes first: the one way the bench's loops (the generator's schedule,
// the nemesis) sleep, so that inside a testing/synctest bubble they all
// run in virtual time.
package sleep

import (
	"context"
	"time"
)

// For waits d, or until ctx ends; it returns ctx's error in the second
// case. A d of zero or less returns at once, with ctx's error if it has
// already ended.
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Until waits until t, or until ctx ends, as For does.
func Until(ctx context.Context, t time.Time) error { return For(ctx, time.Until(t)) }
