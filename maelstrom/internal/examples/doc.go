// Package examples holds nodes written the way Gossip Glomers learners
// write them against Jepsen's Go library, with only the import line
// changed to this repository's maelstrom package: echo, a broadcast that
// gossips with SyncRPC retries, and a grow-only counter kept in seq-kv.
// Each is a main package whose main calls a setup function, which the
// package's tests run in-process in virtual time and as a binary.
package examples
