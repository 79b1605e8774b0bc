// Package stackcheck holds the end-to-end test of the compose stack
// (compose.yaml: rTorrent, rtgate, Flood), run against the running stack
// by scripts/test-compose.sh (make test-compose), which builds and starts
// it and passes its addresses as flags:
//
//	go test ./deploy/stackcheck -run TestStack -v -args \
//		-compose docker-compose -ws ws://127.0.0.1:5080/ws -flood http://127.0.0.1:3000 -token-file rtgate.token
//
// Without -ws the test skips: make test does not start containers.
package stackcheck
