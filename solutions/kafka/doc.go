// Package kafka solves Gossip Glomers challenges 5a–5c: a replicated,
// kafka-style log. (Package documentation in progress.)
package kafka
