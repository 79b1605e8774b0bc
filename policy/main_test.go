package policy_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/rtgate/rtgate/xmlrpc"
)

// TestMain fails the run if a goroutine is still alive once every test and
// benchmark has finished.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func str(s string) xmlrpc.Value { return xmlrpc.NewString(s) }

func strs(ss ...string) []xmlrpc.Value {
	out := make([]xmlrpc.Value, len(ss))
	for i, s := range ss {
		out[i] = xmlrpc.NewString(s)
	}
	return out
}

// entry is one system.multicall entry.
func entry(method string, params ...xmlrpc.Value) xmlrpc.Value {
	return xmlrpc.NewStruct(
		xmlrpc.Member{Name: "methodName", Value: str(method)},
		xmlrpc.Member{Name: "params", Value: xmlrpc.NewArray(params...)},
	)
}

// callerFunc is a Caller made of a function.
type callerFunc func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error)

func (f callerFunc) Call(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
	return f(ctx, method, params...)
}
