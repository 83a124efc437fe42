package main

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
)

func TestUnknownModeExits(t *testing.T) {
	var out, errOut bytes.Buffer
	in := strings.NewReader(`{"src":"c0","dest":"n0","body":{"type":"init","msg_id":1,"node_id":"n0","node_ids":["n0"]}}` + "\n")
	if code := run([]string{"--mode", "slow"}, in, &out, &errOut); code == 0 {
		t.Fatalf("exit status 0 for an unknown mode")
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q to stdout before refusing the mode", out.String())
	}
	if !strings.Contains(errOut.String(), "--mode") || !strings.Contains(errOut.String(), `"slow"`) {
		t.Errorf("stderr %q does not name the flag and the value", errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"fast"}, in, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage") {
		t.Errorf("a stray argument: exit %d, stderr %q; want 2 and the usage", code, errOut.String())
	}
}

// signalWriter collects output and closes ok once it contains want.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	ok   chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if w.ok != nil && strings.Contains(w.buf.String(), w.want) {
		close(w.ok)
		w.ok = nil
	}
	return n, err
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestModesServe(t *testing.T) {
	for _, mode := range []string{"", "efficient", "fast"} {
		var errOut bytes.Buffer
		out := &signalWriter{want: "broadcast_ok", ok: make(chan struct{})}
		acked := out.ok
		r, w := io.Pipe()
		go func() {
			io.WriteString(w, `{"src":"c0","dest":"n0","body":{"type":"init","msg_id":1,"node_id":"n0","node_ids":["n0"]}}`+"\n"+
				`{"src":"c1","dest":"n0","body":{"type":"broadcast","msg_id":1,"message":5}}`+"\n")
			<-acked // the read goes in once the broadcast is acknowledged
			io.WriteString(w, `{"src":"c1","dest":"n0","body":{"type":"read","msg_id":2}}`+"\n")
			w.Close()
		}()
		var args []string
		if mode != "" {
			args = []string{"--mode", mode}
		}
		if code := run(args, r, out, &errOut); code != 0 {
			t.Fatalf("mode %q: exit status %d; stderr:\n%s", mode, code, errOut.String())
		}
		if !strings.Contains(out.String(), `"messages":[5]`) {
			t.Errorf("mode %q: output lacks the read of 5:\n%s", mode, out.String())
		}
		want := mode
		if want == "" {
			want = "efficient"
		}
		if !strings.Contains(errOut.String(), "running in "+want+" mode") {
			t.Errorf("mode %q: stderr does not say the mode:\n%s", mode, errOut.String())
		}
	}
}
