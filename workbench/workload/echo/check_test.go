package echo

import (
	"encoding/json"
	"testing"

	"github.com/glomers/glomers/workbench/checker/checkertest"
)

// reply builds an echo_ok body as the client records it (numbers as json.Number).
func reply(echo any) map[string]any {
	return map[string]any{"echo": echo, "type": "echo_ok", "msg_id": json.Number("2"), "in_reply_to": json.Number("1")}
}

func TestEchoAcceptsMatchingReplies(t *testing.T) {
	b := checkertest.NewHistory().
		Inv(0, "echo", "Please echo 1").OK(0, "echo", reply("Please echo 1")).
		Nemesis("start-partition").
		Inv(1, "echo", int64(5)).OK(1, "echo", reply(json.Number("5"))).  // 5 = 5 whatever the Go type
		Inv(2, "echo", "Please echo 9").Info(2, "echo", "Please echo 9"). // indeterminate: not examined
		Inv(3, "echo", "Please echo 7")                                   // never completed: not examined
	checkertest.Expect(t, Check(b.Ops), "{:valid? true, :errors ()}")
}

func TestEchoRejectsMangledAndFailedReplies(t *testing.T) {
	b := checkertest.NewHistory().
		Inv(0, "echo", "Please echo 2").OK(0, "echo", map[string]any{"echo": "not-right", "type": "echo_ok"}).
		Inv(1, "echo", "Please echo 3").Fail(1, "echo", "Please echo 3").
		Inv(2, "echo", "Please echo 4").OK(2, "echo", reply("Please echo 4")).
		Inv(3, "echo", json.Number("1")).OK(3, "echo", reply(1.0)). // 1 ≠ 1.0
		Inv(4, "echo", "Please echo 6").OK(4, "echo", map[string]any{"type": "echo_ok"})
	checkertest.Expect(t, Check(b.Ops), `{:valid? false, :errors (`+
		`["Expected a message with :echo" "Please echo 2" "But received" {"echo" "not-right", "type" "echo_ok"}] `+
		`["Expected a message with :echo" "Please echo 3" "But received" "Please echo 3"] `+
		`["Expected a message with :echo" 1 "But received" {"echo" 1.0, "in_reply_to" 1, "msg_id" 2, "type" "echo_ok"}] `+
		`["Expected a message with :echo" "Please echo 6" "But received" {"type" "echo_ok"}])}`)
}
