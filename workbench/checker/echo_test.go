package checker

import (
	"encoding/json"
	"testing"
)

// reply builds an echo_ok body as the client records it (numbers as json.Number).
func reply(echo any) map[string]any {
	return map[string]any{"echo": echo, "type": "echo_ok", "msg_id": json.Number("2"), "in_reply_to": json.Number("1")}
}

func TestEchoAcceptsMatchingReplies(t *testing.T) {
	b := newBuilder().
		inv(0, "echo", "Please echo 1").ok(0, "echo", reply("Please echo 1")).
		nemesis("start-partition").
		inv(1, "echo", int64(5)).ok(1, "echo", reply(json.Number("5"))).  // 5 = 5 whatever the Go type
		inv(2, "echo", "Please echo 9").info(2, "echo", "Please echo 9"). // indeterminate: not examined
		inv(3, "echo", "Please echo 7")                                   // never completed: not examined
	expect(t, Echo(b.ops), "{:valid? true, :errors ()}")
}

func TestEchoRejectsMangledAndFailedReplies(t *testing.T) {
	b := newBuilder().
		inv(0, "echo", "Please echo 2").ok(0, "echo", map[string]any{"echo": "not-right", "type": "echo_ok"}).
		inv(1, "echo", "Please echo 3").fail(1, "echo", "Please echo 3").
		inv(2, "echo", "Please echo 4").ok(2, "echo", reply("Please echo 4")).
		inv(3, "echo", json.Number("1")).ok(3, "echo", reply(1.0)). // 1 ≠ 1.0
		inv(4, "echo", "Please echo 6").ok(4, "echo", map[string]any{"type": "echo_ok"})
	expect(t, Echo(b.ops), `{:valid? false, :errors (`+
		`["Expected a message with :echo" "Please echo 2" "But received" {"echo" "not-right", "type" "echo_ok"}] `+
		`["Expected a message with :echo" "Please echo 3" "But received" "Please echo 3"] `+
		`["Expected a message with :echo" 1 "But received" {"echo" 1.0, "in_reply_to" 1, "msg_id" 2, "type" "echo_ok"}] `+
		`["Expected a message with :echo" "Please echo 6" "But received" {"type" "echo_ok"}])}`)
}
