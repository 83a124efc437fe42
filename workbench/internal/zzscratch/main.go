package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/glomers/glomers/workbench"
	"github.com/glomers/glomers/workbench/internal/faulty"
)

func main() {
	wl, name := os.Args[1], os.Args[2]
	node := faulty.Nodes()[name]
	cfg := workbench.Config{Workload: wl, Node: workbench.InProcess(node), NodeIDs: workbench.NodeIDs(3),
		TimeLimit: 5 * time.Second, Rate: 20, Log: os.Stdout, StoreRoot: "/tmp/zzstore"}
	if len(os.Args) > 3 {
		cfg.Nemesis = []string{os.Args[3]}
		cfg.NemesisInterval = time.Second
	}
	res, err := workbench.Run(context.Background(), cfg)
	fmt.Println(err)
	if res != nil {
		fmt.Println(res.Dir)
	}
}
