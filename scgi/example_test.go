package scgi_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/rtgate/rtgate/scgi"
)

// A Server puts an http.Handler on a unix socket for SCGI clients, and a
// Client calls it the way it calls rTorrent.
func Example() {
	dir, err := os.MkdirTemp("", "scgi-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "rpc.sock"))
	if err != nil {
		log.Fatal(err)
	}
	srv := &scgi.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, "<methodResponse><!-- %s %s --></methodResponse>", r.Method, r.URL.Path)
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() {
		srv.Close()
		<-served
	}()

	c, err := scgi.NewClient("unix://"+l.Addr().String(), nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.Do(context.Background(), "text/xml", []byte("<methodCall><methodName>system.client_version</methodName></methodCall>"))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), resp.ContentLength)
	fmt.Println(string(body))
	// Output:
	// 200 OK text/xml 52
	// <methodResponse><!-- POST /RPC2 --></methodResponse>
}

func ExampleClient_Do() {
	c, err := scgi.NewClient("unix:///home/rtorrent/.rtorrent/rpc.socket", &scgi.ClientOptions{
		Headers: []scgi.Header{{Name: "UNTRUSTED_CONNECTION", Value: "1"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Do(ctx, "text/xml", []byte(`<?xml version="1.0"?><methodCall><methodName>system.client_version</methodName></methodCall>`))
	if err != nil {
		log.Fatal(err) // e.g. dial scgi unix:///home/rtorrent/.rtorrent/rpc.socket: 5 attempts: connect: connection refused
	}
	defer resp.Body.Close()
	io.Copy(os.Stdout, resp.Body)
}

func ExampleAppendRequest() {
	req := scgi.AppendRequest(nil, []scgi.Header{{Name: "CONTENT_TYPE", Value: "text/xml"}}, []byte("<methodCall/>"))
	fmt.Printf("%q\n", req)
	// Output: "47:CONTENT_LENGTH\x0013\x00SCGI\x001\x00CONTENT_TYPE\x00text/xml\x00,<methodCall/>"
}
