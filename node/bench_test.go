package node_test

import (
	"bytes"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/glomers/glomers/node"
)

// echoInput is an io.Reader producing an init line and then n echo
// requests, each with its own msg_id, without holding them all in memory.
type echoInput struct {
	left, next int
	buf        []byte
	init       bool
}

func (r *echoInput) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && (r.left > 0 || !r.init) {
		if !r.init {
			r.buf = append(r.buf, `{"id":0,"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}`+"\n"...)
			r.init = true
			continue
		}
		r.next++
		r.left--
		r.buf = append(r.buf, `{"id":`...)
		r.buf = strconv.AppendInt(r.buf, int64(r.next), 10)
		r.buf = append(r.buf, `,"src":"c1","dest":"n1","body":{"echo":"Please echo 103","type":"echo","msg_id":`...)
		r.buf = strconv.AppendInt(r.buf, int64(r.next), 10)
		r.buf = append(r.buf, "}}\n"...)
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	return n, nil
}

// lineCounter counts output lines.
type lineCounter struct{ lines int }

func (w *lineCounter) Write(p []byte) (int, error) {
	w.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// BenchmarkEchoRun measures echo round trips through Run: decoding each
// request line, dispatching it to a handler goroutine, encoding and
// writing the reply.
func BenchmarkEchoRun(b *testing.B) {
	n := node.New(node.WithLogOutput(bytes.NewBuffer(nil)))
	handleEcho(n)
	in := &echoInput{left: b.N}
	out := &lineCounter{}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := n.Run(in, out); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	if out.lines != b.N+1 {
		b.Fatalf("%d replies for %d requests (+ init)", out.lines, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}
