package workbench

import (
	"context"
	"fmt"

	"github.com/glomers/glomers/workbench/history"
	"github.com/glomers/glomers/workbench/nemesis"
	"github.com/glomers/glomers/workbench/netsim"
)

// faultTarget is what the nemesis loop acts on (nemesis.Target): the
// run's network, its nodes and its history. The loop decides which fault
// and when; faultTarget carries it out and says so in the test log.
type faultTarget struct {
	net   *netsim.Network
	nodes *cluster
	hist  *history.History
	log   *logger
}

// Partition cuts the network as g says.
func (t *faultTarget) Partition(g nemesis.Grudge) { t.net.Partition(g) }

// Heal ends every partition.
func (t *faultTarget) Heal() { t.net.Heal() }

// Kill ends node id's process: SIGKILL for an OS process; an in-process
// node's pipes are closed.
func (t *faultTarget) Kill(id string) {
	if pid := t.nodes.proc(id).Pid(); pid != 0 {
		t.log.Infof("Killing %s (pid %d)", id, pid)
	} else {
		t.log.Infof("Killing %s", id)
	}
	t.nodes.killNode(id)
}

// Restart starts a fresh process for the killed node id and waits until
// it has answered init; a node that does not come back ends the test.
func (t *faultTarget) Restart(ctx context.Context, id string) {
	t.log.Infof("Restarting %s", id)
	lost, err := t.nodes.restartNode(ctx, id)
	if err != nil {
		t.log.Errorf("Node %s did not come back: %v", id, err)
		return
	}
	var pid string
	if p := t.nodes.proc(id).Pid(); p != 0 {
		pid = fmt.Sprintf(", pid %d", p)
	}
	msgs := "messages"
	if lost == 1 {
		msgs = "message"
	}
	t.log.Infof("%s is up again (init_ok%s); %d %s to it were dropped while it was down", id, pid, lost, msgs)
}

// Pause freezes node id: SIGSTOP for an OS process; an in-process node
// gets no input and its output is held back.
func (t *faultTarget) Pause(id string) {
	t.log.Infof("Pausing %s", id)
	if err := t.nodes.proc(id).Pause(); err != nil {
		t.log.Warnf("%v", err)
	}
}

// Resume lets a paused node id go on.
func (t *faultTarget) Resume(id string) {
	t.log.Infof("Resuming %s", id)
	if err := t.nodes.proc(id).Resume(); err != nil {
		t.log.Warnf("%v", err)
	}
}

// Record appends a nemesis operation to the history.
func (t *faultTarget) Record(f string, value any) {
	t.hist.Append(history.Op{Type: history.Info, Process: history.NemesisProcess, F: f, Value: value})
}
