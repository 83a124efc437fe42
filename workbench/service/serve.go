package service

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/glomers/glomers/workbench/netsim"
)

// Serve answers the messages delivered to ep with svc until ctx ends,
// one at a time in delivery order, as Maelstrom's service thread does.
// A reply carries the request's msg_id as in_reply_to (null when the
// request had none). A request that cannot be decoded or that svc does
// not answer gets no reply, and warn (which may be nil) is told why.
func Serve(ctx context.Context, net *netsim.Network, ep *netsim.Endpoint, svc Service, warn func(format string, args ...any)) {
	if warn == nil {
		warn = func(string, ...any) {}
	}
	name := ep.ID()
	for {
		m, err := ep.Recv(ctx)
		if err != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(m.Body))
		dec.UseNumber()
		var body map[string]any
		if err := dec.Decode(&body); err != nil {
			warn("Error in service worker! %s cannot decode %s from %s: %v", name, m.Body, m.Src, err)
			continue
		}
		reply, ok := svc.Handle(m.Src, body)
		if !ok {
			warn("Error in service worker! %s does not understand %s from %s", name, m.Body, m.Src)
			continue
		}
		reply["in_reply_to"] = body["msg_id"]
		raw, err := json.Marshal(reply)
		if err != nil {
			warn("Error in service worker! %s cannot encode its reply: %v", name, err)
			continue
		}
		if _, err := net.Send(name, m.Src, raw); err != nil {
			warn("%s could not reply to %s: %v", name, m.Src, err)
		}
	}
}
