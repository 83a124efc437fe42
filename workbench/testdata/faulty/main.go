// Command faulty runs one of the deliberately broken nodes of package
// faulty as a real process: `faulty mangled-echo`. The bench's
// real-process tests build it to check that each fault is caught.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/glomers/glomers/node"
	"github.com/glomers/glomers/workbench/internal/faulty"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: faulty NAME (one of %s)\n", strings.Join(faulty.Names(), ", "))
		os.Exit(2)
	}
	if os.Args[1] == "crash-echo" {
		crashEcho()
		return
	}
	if os.Args[1] == "setsid-echo" {
		setsidEcho()
		return
	}
	if run, ok := faulty.Hostile()[os.Args[1]]; ok {
		if err := run(os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	register, ok := faulty.Nodes()[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "faulty: unknown fault %q (one of %s)\n", os.Args[1], strings.Join(faulty.Names(), ", "))
		os.Exit(2)
	}
	n := node.New()
	register(n)
	node.Main(n)
}

// setsidEcho is an echo node that first starts `setsid sleep 300`, a
// grandchild in a session of its own that the kill of the node's process
// group does not reach, and appends its pid to the file named by
// $GLOMERS_TEST_PIDFILE.
func setsidEcho() {
	cmd := exec.Command("setsid", "sleep", "300")
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "setsid-echo:", err)
		os.Exit(1)
	}
	if path := os.Getenv("GLOMERS_TEST_PIDFILE"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, cmd.Process.Pid)
			f.Close()
		}
	}
	n := node.New()
	n.Handle("echo", func(msg node.Message) error {
		var body struct {
			Echo any `json:"echo"`
		}
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		return n.Reply(msg, map[string]any{"type": "echo_ok", "echo": body.Echo})
	})
	node.Main(n)
}

// crashEcho is an echo node that exits with status 3 after reading its
// fifth message, as a node that crashes in the middle of a test.
func crashEcho() {
	n := node.New()
	n.Handle("echo", func(msg node.Message) error {
		var body struct {
			Echo any `json:"echo"`
		}
		if err := msg.Unmarshal(&body); err != nil {
			return err
		}
		return n.Reply(msg, map[string]any{"type": "echo_ok", "echo": body.Echo})
	})
	r, w := io.Pipe()
	go func() {
		in := bufio.NewReader(os.Stdin)
		for i := 0; i < 5; i++ {
			line, err := in.ReadBytes('\n')
			w.Write(line)
			if err != nil {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
		fmt.Fprintln(os.Stderr, "crash-echo: giving up after five messages")
		os.Exit(3)
	}()
	if err := n.Run(r, os.Stdout); err != nil {
		os.Exit(1)
	}
}
