package gateway_test

import (
	"log"
	"net"
	"net/http"

	"github.com/rtgate/rtgate/gateway"
	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/rtorrent"
	"github.com/rtgate/rtgate/scgi"
)

// A door for Flood, ruTorrent and scripts in front of an rTorrent: XML-RPC
// and JSON-RPC over SCGI and HTTP, Flood's add and move allowed.
func ExampleNewHandler() {
	const addr = "unix:///run/rtorrent/rpc.sock"
	client, err := rtorrent.New(addr, nil)
	if err != nil {
		log.Fatal(err)
	}
	raw, err := scgi.NewClient(addr, nil)
	if err != nil {
		log.Fatal(err)
	}
	pol, err := policy.New(policy.Config{
		Allow: []string{"d.directory.set", "d.directory_base.set"},
	})
	if err != nil {
		log.Fatal(err)
	}
	up := gateway.NewCoalescer(client, &gateway.CoalesceOptions{
		Raw: raw,
		OnWrite: func(method string, targets []string) {
			log.Printf("%s changed %v", method, targets)
		},
	})
	h := gateway.NewHandler(up, &gateway.HandlerOptions{Policy: pol})

	l, err := net.Listen("unix", "/run/rtgate/flood.sock")
	if err != nil {
		log.Fatal(err)
	}
	go (&scgi.Server{Handler: h}).Serve(l)

	mux := http.NewServeMux()
	mux.Handle("POST /RPC2", h)
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}
