// Package txn solves Gossip Glomers challenges 6a–6c: a key/value store
// of registers that runs read/write transactions, totally available
// (every node answers every transaction at once, on its own, even when
// cut off from the others), at read uncommitted (6a, 6b) and read
// committed (6c).
//
// Design, cost, correctness and figures: written below once measured.
package txn
