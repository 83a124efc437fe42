// Package maelstrom offers the exported API of Jepsen's Go library for
// Maelstrom nodes (github.com/jepsen-io/maelstrom/demo/go, as of
// Maelstrom 0.2.4), built on this repository's node package, so that a
// node written for that library compiles unchanged once its import line
// reads
//
//	import maelstrom "github.com/glomers/glomers/maelstrom"
//
// The names, signatures, constants and error behaviour are the demo
// library's: a handler's *RPCError becomes an error reply with its code,
// any other error becomes code 13 (crash) with the error's text; a reply
// (a body whose in_reply_to is not 0) goes to the callback of the RPC it
// answers, every other message to the handler of its type; a message of
// a type nobody handles, or a line that is not a message, makes Run
// return an error, as it makes the demo library's Run return one (a node
// binary then exits); [Node.Reply] answers a request that had no msg_id
// with "in_reply_to": 0, as the demo library does, and so do the error
// replies of failed handlers. A node's messages, and
// so a test's message counts, are those the demo library would send.
//
// # In virtual time
//
// Move what main does before Run into a setup function, and [InProcess]
// runs the node inside the test bench's process; in a testing/synctest
// bubble (workbench/workbenchtest) a whole test then runs in virtual time:
//
//	func setup(n *maelstrom.Node) { n.Handle("echo", …) }
//	func main() {
//		n := maelstrom.NewNode()
//		setup(n)
//		if err := n.Run(); err != nil {
//			log.Fatal(err)
//		}
//	}
//
// and in a test, workbench.Config{Node: maelstrom.InProcess(setup), …}.
// Log with the log package as usual; in-process, those lines go to the
// test binary's standard error (the node's own log lines go to the node's
// log).
//
// # Differences
//
// Where the demo library is fragile, this package does better:
//
//   - Lines of any length are read. The demo library reads its input with
//     a bufio.Scanner, whose 64 KiB line limit makes Run fail (and the
//     node exit) as soon as one message is longer, such as a large final
//     poll reply or a gossip batch.
//   - [Node.SyncRPC] forgets a request whose context ends first: a late
//     reply is logged and dropped. The demo library leaves the callback
//     registered forever and, when the late reply comes, blocks a
//     goroutine for good on an unbuffered channel.
//   - When the input ends, Run waits for the handlers in flight, as the
//     demo library does, but a handler waiting in SyncRPC (or a KV
//     method) does not keep it waiting: it can never get its reply. Such
//     a call, and any Send, Reply, RPC or SyncRPC made after the input
//     ended (say by a gossip loop the node started), ends the goroutine
//     that makes it (runtime.Goexit), so that retry loops and tickers
//     stop with their node instead of spinning or leaking; in-process,
//     that is what lets a test end. A goroutine that never calls the node
//     again must stop by itself.
//   - Requests that arrive before init wait for it, instead of seeing a
//     node without an id.
//   - Error replies always carry their code, 0 (timeout) included, and an
//     error body whose type is "error" is an error even when its code is
//     0 ([Message.RPCError]); the demo library omits and ignores code 0.
//   - Bodies keep their numbers exactly: Reply and RPC do not pass them
//     through float64, so integers beyond 2^53 survive. [KV.Read] decodes
//     an integer value of any size exactly.
//   - Each message goes out with a single write, and the node does not
//     log every message it sends and receives (the bench's journal
//     already has them).
//   - The node needs its id to send: Send before init returns an error
//     rather than a message without "src". Bodies must be JSON objects.
//   - The RPC callbacks of requests that are never answered stay
//     registered until the node stops, as in the demo library: give
//     requests that may be lost a deadline with SyncRPC.
package maelstrom
