package edn_test

import (
	"testing"

	"github.com/glomers/glomers/workbench/edn"
	"github.com/glomers/glomers/workbench/history"
)

// History ops print through their EDN method, in the shape of Jepsen's
// history.edn lines.
func TestMarshalHistoryOps(t *testing.T) {
	cases := []struct {
		op   history.Op
		want string
	}{
		{history.Op{Index: 0, Time: 12345678, Type: history.Invoke, Process: 0, F: "broadcast", Value: int64(0)},
			"{:index 0, :time 12345678, :type :invoke, :process 0, :f :broadcast, :value 0}"},
		{history.Op{Index: 7, Time: 52145332, Type: history.Info, Process: history.NemesisProcess, F: "start-partition",
			Value: edn.Vector{edn.Keyword("isolated"), map[string]any{"n1": edn.Set{"n2", "n3"}}}},
			`{:index 7, :time 52145332, :type :info, :process :nemesis, :f :start-partition, :value [:isolated {"n1" #{"n2" "n3"}}]}`},
		{history.Op{Index: 3, Time: 9, Type: history.Fail, Process: 1, F: "read", Error: []any{edn.Keyword("timeout"), "slow"}, Final: true},
			`{:index 3, :time 9, :type :fail, :process 1, :f :read, :value nil, :final? true, :error [:timeout "slow"]}`},
	}
	for _, c := range cases {
		// Both the Op itself (via its EDN method) and its map print alike.
		for _, v := range []any{c.op, c.op.EDN(), &c.op} {
			got, err := edn.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("Marshal(%T) = %s\nwant %s", v, got, c.want)
			}
		}
	}
}
