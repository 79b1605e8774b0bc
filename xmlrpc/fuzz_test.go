package xmlrpc_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/rtgate/rtgate/xmlrpc"
)

// seedFiles returns the documents under testdata/xmlrpc/seeds and the
// bodies of the recorded rTorrent replies and calls.
func seedFiles(t testing.TB) [][]byte {
	t.Helper()
	var docs [][]byte
	files, err := filepath.Glob(filepath.Join("..", "testdata", "xmlrpc", "seeds", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed files: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	fixtures, _ := filepath.Glob(filepath.Join("..", "testdata", "rtorrent-0.9.8", "*"))
	for _, file := range fixtures {
		docs = append(docs, fixtureBody(t, filepath.Base(file)))
	}
	return docs
}

// checkDecodeError fails unless err is one a decoder may return for
// in-memory input: a syntax error, a depth error or a fault.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	var f *xmlrpc.Fault
	if err != nil && !errors.Is(err, xmlrpc.ErrSyntax) && !errors.Is(err, xmlrpc.ErrTooDeep) && !errors.As(err, &f) {
		t.Fatalf("unexpected kind of error: %v", err)
	}
}

var encodeAll = xmlrpc.Encoder{AllowDouble: true, AllowNil: true}

func FuzzDecodeResponse(f *testing.F) {
	for _, doc := range seedFiles(f) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		v, err := xmlrpc.DecodeResponse(bytes.NewReader(doc))
		checkDecodeError(t, err)
		// Splitting the input anywhere changes nothing, errors included.
		v2, err2 := xmlrpc.DecodeResponse(iotest.OneByteReader(bytes.NewReader(doc)))
		if !v2.Equal(v) || errString(err2) != errString(err) {
			t.Fatalf("one byte at a time: %v, %v; whole: %v, %v", v2, err2, v, err)
		}
		if err == nil {
			checkRoundTrip(t, v)
		}
	})
}

func FuzzDecodeCall(f *testing.F) {
	for _, doc := range seedFiles(f) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		method, params, err := xmlrpc.DecodeCall(bytes.NewReader(doc))
		checkDecodeError(t, err)
		method2, params2, err2 := xmlrpc.DecodeCall(iotest.OneByteReader(bytes.NewReader(doc)))
		if method2 != method || !equalValues(params2, params) || errString(err2) != errString(err) {
			t.Fatalf("one byte at a time: %q %v, %v; whole: %q %v, %v", method2, params2, err2, method, params, err)
		}
		if err != nil {
			return
		}
		out, err := encodeAll.AppendCall(nil, method, params)
		if err != nil {
			t.Fatalf("encoding %q %v: %v", method, params, err)
		}
		method3, params3, err := xmlrpc.DecodeCall(bytes.NewReader(out))
		if err != nil || method3 != method || !equalValues(params3, params) {
			t.Fatalf("call %q %v came back as %q %v, %v from %q", method, params, method3, params3, err, out)
		}
	})
}

// FuzzRoundTrip checks decode(encode(v)) == v for values decoded from
// documents and for values built from arbitrary strings and numbers.
func FuzzRoundTrip(f *testing.F) {
	for _, doc := range seedFiles(f) {
		f.Add(doc, "", int64(0), 0.0)
	}
	f.Add([]byte(nil), "a&b<c>\r\n\x00\x1f\xff]]>", int64(math.MinInt64), 1e-300)
	f.Add([]byte(nil), " ", int64(1)<<31, math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, doc []byte, s string, n int64, x float64) {
		if v, err := xmlrpc.DecodeResponse(bytes.NewReader(doc)); err == nil {
			checkRoundTrip(t, v)
		}
		built := xmlrpc.NewArray(
			xmlrpc.NewString(s), xmlrpc.NewInt(n), xmlrpc.NewBool(n&1 == 1), xmlrpc.NewBase64([]byte(s)), xmlrpc.NewDateTime(s),
			xmlrpc.NewStruct(xmlrpc.Member{Name: s, Value: xmlrpc.NewArray(xmlrpc.NewString(s), xmlrpc.Value{})}),
		)
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			built = xmlrpc.NewArray(append(built.Values(), xmlrpc.NewDouble(x))...)
		}
		checkRoundTrip(t, built)
	})
}

// checkRoundTrip encodes v with every kind allowed and decodes it back.
func checkRoundTrip(t *testing.T, v xmlrpc.Value) {
	t.Helper()
	out, err := encodeAll.AppendResponse(nil, v)
	if err != nil {
		t.Fatalf("encoding %v: %v", v, err)
	}
	back, err := xmlrpc.DecodeResponse(bytes.NewReader(out))
	if err != nil || !back.Equal(v) {
		t.Fatalf("%v came back as %v, %v from %q", v, back, err, out)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
