package xmlrpc_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/rtgate/rtgate/xmlrpc"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/xmlrpc/golden")

// fixtureBody returns the XML body of an rTorrent 0.9.8 reply recorded
// with its SCGI headers.
func fixtureBody(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "rtorrent-0.9.8", name))
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 && strings.HasSuffix(name, ".scgi") {
		b = b[i+4:]
	}
	return b
}

// resp wraps the inside of a <value> into a methodResponse.
func resp(value string) string {
	return `<?xml version="1.0"?><methodResponse><params><param><value>` + value + `</value></param></params></methodResponse>`
}

func decodeString(doc string) (xmlrpc.Value, error) {
	return xmlrpc.DecodeResponse(strings.NewReader(doc))
}

func str(s string) xmlrpc.Value { return xmlrpc.NewString(s) }
func i64(n int64) xmlrpc.Value  { return xmlrpc.NewInt(n) }
func arr(vs ...xmlrpc.Value) xmlrpc.Value {
	return xmlrpc.NewArray(vs...)
}

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want xmlrpc.Value
	}{
		{"string", resp(`<string>abc</string>`), str("abc")},
		{"untyped string", resp(`abc`), str("abc")},
		{"untyped keeps whitespace", resp("  a b \t"), str("  a b \t")},
		{"untyped whitespace only", resp(" \n "), str(" \n ")},
		{"untyped empty", resp(``), str("")},
		{"value self-closing", `<methodResponse><params><param><value/></param></params></methodResponse>`, str("")},
		{"string self-closing", resp(`<string/>`), str("")},
		{"string empty", resp(`<string></string>`), str("")},
		{"string keeps whitespace", resp(`<string>  x  </string>`), str("  x  ")},
		{"whitespace around type tag", resp("\r\n  <string>x</string>\r\n"), str("x")},
		{"predefined entities", resp(`<string>&lt;&gt;&amp;&quot;&apos;</string>`), str(`<>&"'`)},
		{"character references", resp(`<string>&#65;&#x42;&#x1F600;&#128512;</string>`), str("AB😀😀")},
		{"control character references", resp(`<string>&#x0;&#x1;&#x1F;&#13;</string>`), str("\x00\x01\x1f\r")},
		{"untyped with entities", resp(`a&amp;b`), str("a&b")},
		{"cdata", resp(`<string>a<![CDATA[<b>&amp;]]]]>c</string>`), str("a<b>&amp;]]c")},
		{"cdata only", resp(`<string><![CDATA[]]></string>`), str("")},
		{"untyped cdata", resp(`<![CDATA[x]]>`), str("x")},
		{"comment in text", resp(`<string>a<!-- <b> -->b</string>`), str("ab")},
		{"processing instruction in text", resp(`<string>a<?pi x?>b</string>`), str("ab")},
		{"line ends normalised", resp("<string>a\r\nb\rc\n</string>"), str("a\nb\nc\n")},
		{"line ends normalised in cdata", resp("<string><![CDATA[a\r\nb\r]]></string>"), str("a\nb\n")},
		{"comments between tags", resp(`<!--a--><string>x</string><!--b-->`), str("x")},
		{"invalid utf-8 passes through", resp("<string>\xff\xfe\x80</string>"), str("\xff\xfe\x80")},
		{"utf-8", resp(`<string>Über 日本語</string>`), str("Über 日本語")},
		{"end tag with space", resp(`<string>x</string >`), str("x")},
		{"attributes ignored", resp(`<string a="1>2" b='<'>x</string>`), str("x")},

		{"i4", resp(`<i4>-506</i4>`), i64(-506)},
		{"i8", resp(`<i8>1795273404</i8>`), i64(1795273404)},
		{"int", resp(`<int>7</int>`), i64(7)},
		{"int plus sign", resp(`<int>+7</int>`), i64(7)},
		{"int whitespace", resp("<i4> \r\n42\t</i4>"), i64(42)},
		{"int leading zeros", resp(`<i8>-0000000000000000000000012</i8>`), i64(-12)},
		{"int max", resp(`<i8>9223372036854775807</i8>`), i64(math.MaxInt64)},
		{"int min", resp(`<i8>-9223372036854775808</i8>`), i64(math.MinInt64)},
		{"int character reference", resp(`<i4>&#49;2</i4>`), i64(12)},
		{"boolean 1", resp(`<boolean>1</boolean>`), xmlrpc.NewBool(true)},
		{"boolean 0", resp(`<boolean>0</boolean>`), xmlrpc.NewBool(false)},
		{"boolean whitespace", resp(`<boolean> 1 </boolean>`), xmlrpc.NewBool(true)},
		{"double", resp(`<double>-1.5</double>`), xmlrpc.NewDouble(-1.5)},
		{"double exponent", resp(`<double> 1e3 </double>`), xmlrpc.NewDouble(1000)},
		{"double integer", resp(`<double>3</double>`), xmlrpc.NewDouble(3)},
		{"double fraction only", resp(`<double>.5</double>`), xmlrpc.NewDouble(0.5)},
		{"base64", resp(`<base64>aGVsbG8=</base64>`), xmlrpc.NewBase64([]byte("hello"))},
		{"base64 with line breaks", resp("<base64>\r\n aGVs\r\n bG8=\n</base64>"), xmlrpc.NewBase64([]byte("hello"))},
		{"base64 unpadded", resp(`<base64>aGVsbG8</base64>`), xmlrpc.NewBase64([]byte("hello"))},
		{"base64 empty", resp(`<base64></base64>`), xmlrpc.NewBase64(nil)},
		{"base64 self-closing", resp(`<base64/>`), xmlrpc.NewBase64(nil)},
		{"dateTime", resp(`<dateTime.iso8601>20240102T03:04:05</dateTime.iso8601>`), xmlrpc.NewDateTime("20240102T03:04:05")},
		{"nil", resp(`<nil/>`), xmlrpc.Value{}},
		{"nil open and close", resp(`<nil> </nil>`), xmlrpc.Value{}},

		{"array", resp(`<array><data><value><i4>1</i4></value><value>x</value></data></array>`), arr(i64(1), str("x"))},
		{"array empty data", resp(`<array><data/></array>`), arr()},
		{"array empty data pair", resp(`<array><data></data></array>`), arr()},
		{"array of empty values", resp(`<array><data><value/><value></value></data></array>`), arr(str(""), str(""))},
		{"array pretty", resp("<array>\n <data>\n  <!-- c -->\n  <value>\n   <i4>1</i4>\n  </value>\n </data>\n</array>"), arr(i64(1))},
		{"array nested", resp(`<array><data><value><array><data><value><array><data/></array></value></data></array></value></data></array>`), arr(arr(arr()))},
		{"struct", resp(`<struct><member><name>b</name><value><i4>1</i4></value></member><member><name>a</name><value>x</value></member></struct>`),
			xmlrpc.NewStruct(xmlrpc.Member{Name: "b", Value: i64(1)}, xmlrpc.Member{Name: "a", Value: str("x")})},
		{"struct empty", resp(`<struct></struct>`), xmlrpc.NewStruct()},
		{"struct self-closing", resp(`<struct/>`), xmlrpc.NewStruct()},
		{"struct empty name and value", resp(`<struct><member><name/><value/></member></struct>`), xmlrpc.NewStruct(xmlrpc.Member{Name: "", Value: str("")})},
		{"struct name with entity", resp(`<struct><member><name>a&amp;b</name><value><i4>1</i4></value></member></struct>`), xmlrpc.NewStruct(xmlrpc.Member{Name: "a&b", Value: i64(1)})},
		{"struct duplicate names kept", resp(`<struct><member><name>a</name><value><i4>1</i4></value></member><member><name>a</name><value><i4>2</i4></value></member></struct>`),
			xmlrpc.NewStruct(xmlrpc.Member{Name: "a", Value: i64(1)}, xmlrpc.Member{Name: "a", Value: i64(2)})},

		{"prolog and epilog", "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- c --><?pi?>\n" + resp(`<i4>1</i4>`) + "\r\n<!-- end -->\n \t", i64(1)},
		{"tags with whitespace", "<methodResponse >\n<params>\n<param>\n<value>\n<i4>1</i4>\n</value>\n</param>\n</params>\n</methodResponse>", i64(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range readers([]byte(tt.doc)) {
				got, err := xmlrpc.DecodeResponse(r.r)
				if err != nil {
					t.Fatalf("%s: %v", r.name, err)
				}
				if !got.Equal(tt.want) {
					t.Fatalf("%s: got %v (%v), want %v (%v)", r.name, got, got.Kind(), tt.want, tt.want.Kind())
				}
			}
		})
	}
}

type namedReader struct {
	name string
	r    io.Reader
}

// readers returns doc behind readers that split it in different places.
func readers(doc []byte) []namedReader {
	return []namedReader{
		{"bytes", bytes.NewReader(doc)},
		{"one byte", iotest.OneByteReader(bytes.NewReader(doc))},
		{"half", iotest.HalfReader(bytes.NewReader(doc))},
		{"data with EOF", iotest.DataErrReader(bytes.NewReader(doc))},
		{"random chunks", &chunkReader{doc: doc, rng: rand.New(rand.NewPCG(uint64(len(doc)), 7))}},
	}
}

// chunkReader returns doc in reads of random sizes, some of them empty.
type chunkReader struct {
	doc []byte
	rng *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.doc) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.doc), c.rng.IntN(100000))
	n = copy(p, c.doc[:n])
	c.doc = c.doc[n:]
	return n, nil
}

func TestDecodeResponseErrors(t *testing.T) {
	valid := resp(`<i4>1</i4>`)
	tests := []struct {
		name    string
		doc     string
		target  error  // errors.Is target
		message string // substring of the message
	}{
		{"empty input", ``, io.ErrUnexpectedEOF, "at byte 0: unexpected end of input"},
		{"whitespace only", " \r\n", io.ErrUnexpectedEOF, "unexpected end of input"},
		{"garbage", `hello`, xmlrpc.ErrSyntax, `at byte 0: unexpected text "hello"`},
		{"methodCall root", `<methodCall><methodName>x</methodName></methodCall>`, xmlrpc.ErrSyntax, "at byte 0: expected <methodResponse>, found <methodCall>"},
		{"mismatched end tag", resp(`<string>x</value>`), xmlrpc.ErrSyntax, "expected </string>, found </value>"},
		{"text after type", resp(`<string>x</string>y`), xmlrpc.ErrSyntax, `unexpected text "y"`},
		{"text before type", resp(`x<string>y</string>`), xmlrpc.ErrSyntax, "expected </value>, found <string>"},
		{"element in string", resp(`<string>a<b/>c</string>`), xmlrpc.ErrSyntax, "expected </string>, found <b/>"},
		{"trailing text", valid + "x", xmlrpc.ErrSyntax, `unexpected text "x"`},
		{"trailing element", valid + "<methodResponse/>", xmlrpc.ErrSyntax, "data after the root element"},
		{"trailing cdata", valid + "<![CDATA[x]]>", xmlrpc.ErrSyntax, "unexpected CDATA section"},
		{"doctype", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>` + valid, xmlrpc.ErrSyntax, "DOCTYPE is not allowed"},
		{"doctype in text", resp(`<string><!DOCTYPE x></string>`), xmlrpc.ErrSyntax, "DOCTYPE is not allowed"},
		{"unknown entity", resp(`<string>&a;</string>`), xmlrpc.ErrSyntax, `invalid entity "&a;"`},
		{"entity without semicolon", resp(`<string>&amp</string>`), xmlrpc.ErrSyntax, "invalid entity"},
		{"surrogate reference", resp(`<string>&#xD800;</string>`), xmlrpc.ErrSyntax, "invalid entity"},
		{"reference out of range", resp(`<string>&#x110000;</string>`), xmlrpc.ErrSyntax, "invalid entity"},
		{"empty reference", resp(`<string>&#;</string>`), xmlrpc.ErrSyntax, "invalid entity"},
		{"empty hex reference", resp(`<string>&#x;</string>`), xmlrpc.ErrSyntax, "invalid entity"},
		{"bad digit in reference", resp(`<string>&#12a;</string>`), xmlrpc.ErrSyntax, "invalid entity"},
		{"int overflow", resp(`<i8>9223372036854775808</i8>`), xmlrpc.ErrSyntax, `invalid integer "9223372036854775808"`},
		{"int underflow", resp(`<i8>-9223372036854775809</i8>`), xmlrpc.ErrSyntax, "invalid integer"},
		{"int long overflow", resp(`<i8>99999999999999999999999</i8>`), xmlrpc.ErrSyntax, "invalid integer"},
		{"int fraction", resp(`<i4>1.5</i4>`), xmlrpc.ErrSyntax, "invalid integer"},
		{"int sign only", resp(`<i4>-</i4>`), xmlrpc.ErrSyntax, "invalid integer"},
		{"int empty", resp(`<i4></i4>`), xmlrpc.ErrSyntax, "invalid integer"},
		{"int self-closing", resp(`<int/>`), xmlrpc.ErrSyntax, "empty <int>"},
		{"int end tag mismatch", resp(`<i4>1</i8>`), xmlrpc.ErrSyntax, "expected </i4>, found </i8>"},
		{"boolean true", resp(`<boolean>true</boolean>`), xmlrpc.ErrSyntax, `invalid boolean "true"`},
		{"boolean 2", resp(`<boolean>2</boolean>`), xmlrpc.ErrSyntax, "invalid boolean"},
		{"boolean empty", resp(`<boolean/>`), xmlrpc.ErrSyntax, "invalid boolean"},
		{"double NaN", resp(`<double>NaN</double>`), xmlrpc.ErrSyntax, "invalid double"},
		{"double inf", resp(`<double>inf</double>`), xmlrpc.ErrSyntax, "invalid double"},
		{"double hex", resp(`<double>0x1p3</double>`), xmlrpc.ErrSyntax, "invalid double"},
		{"double overflow", resp(`<double>1e999</double>`), xmlrpc.ErrSyntax, "invalid double"},
		{"double empty", resp(`<double></double>`), xmlrpc.ErrSyntax, "invalid double"},
		{"double dot", resp(`<double>.</double>`), xmlrpc.ErrSyntax, "invalid double"},
		{"base64 invalid", resp(`<base64>!!!!</base64>`), xmlrpc.ErrSyntax, "invalid base64"},
		{"unknown type", resp(`<float>1</float>`), xmlrpc.ErrSyntax, "unknown type <float>"},
		{"nil with text", resp(`<nil>x</nil>`), xmlrpc.ErrSyntax, "unexpected text"},
		{"params self-closing", `<methodResponse><params/></methodResponse>`, xmlrpc.ErrSyntax, "response has no param"},
		{"params empty", `<methodResponse><params></params></methodResponse>`, xmlrpc.ErrSyntax, "response has no param"},
		{"no params", `<methodResponse></methodResponse>`, xmlrpc.ErrSyntax, "expected <params> or <fault>, found </methodResponse>"},
		{"two params", `<methodResponse><params><param><value>a</value></param><param><value>b</value></param></params></methodResponse>`, xmlrpc.ErrSyntax, "more than one param"},
		{"param without value", `<methodResponse><params><param></param></params></methodResponse>`, xmlrpc.ErrSyntax, "expected <value>, found </param>"},
		{"params and fault", `<methodResponse><params><param><value>a</value></param></params><fault/></methodResponse>`, xmlrpc.ErrSyntax, "expected </methodResponse>, found <fault/>"},
		{"array without data", resp(`<array></array>`), xmlrpc.ErrSyntax, "expected <data>, found </array>"},
		{"array self-closing", resp(`<array/>`), xmlrpc.ErrSyntax, "<array/> has no <data>"},
		{"array text element", resp(`<array><data>x</data></array>`), xmlrpc.ErrSyntax, `unexpected text "x"`},
		{"array wrong element", resp(`<array><data><i4>1</i4></data></array>`), xmlrpc.ErrSyntax, "expected <value> or </data>, found <i4>"},
		{"struct value before name", resp(`<struct><member><value>x</value><name>a</name></member></struct>`), xmlrpc.ErrSyntax, "expected <name>, found <value>"},
		{"struct member without value", resp(`<struct><member><name>a</name></member></struct>`), xmlrpc.ErrSyntax, "expected <value>, found </member>"},
		{"struct two values", resp(`<struct><member><name>a</name><value/><value/></member></struct>`), xmlrpc.ErrSyntax, "expected </member>, found <value/>"},
		{"struct wrong element", resp(`<struct><value/></struct>`), xmlrpc.ErrSyntax, "expected <member> or </struct>, found <value/>"},
		{"less-than in tag", resp(`<string<>x</string>`), xmlrpc.ErrSyntax, "'<' inside a tag"},
		{"empty tag name", resp(`<>x</>`), xmlrpc.ErrSyntax, "malformed tag"},
		{"end tag with attribute", resp(`<string>x</string a="">`), xmlrpc.ErrSyntax, "malformed end tag"},
		{"cdata between tags", `<methodResponse><![CDATA[x]]><params/></methodResponse>`, xmlrpc.ErrSyntax, "unexpected CDATA section"},
		{"unknown markup", `<methodResponse><!ELEMENT x><params/></methodResponse>`, xmlrpc.ErrSyntax, "unexpected markup"},
		{"unterminated comment", `<methodResponse><!-- x`, io.ErrUnexpectedEOF, "at byte 16: unterminated comment"},
		{"unterminated cdata", resp(`<string><![CDATA[x`), io.ErrUnexpectedEOF, "unterminated CDATA section"},
		{"unterminated processing instruction", `<?xml version="1.0"`, io.ErrUnexpectedEOF, "at byte 0: unterminated processing instruction"},
		{"truncated", valid[:len(valid)-3], io.ErrUnexpectedEOF, "unexpected end of input"},
		{"bad fault: no struct", `<methodResponse><fault><value><string>x</string></value></fault></methodResponse>`, xmlrpc.ErrSyntax, "malformed fault"},
		{"bad fault: empty value", `<methodResponse><fault><value/></fault></methodResponse>`, xmlrpc.ErrSyntax, "malformed fault"},
		{"bad fault: code as string", `<methodResponse><fault><value><struct><member><name>faultCode</name><value>1</value></member><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>`, xmlrpc.ErrSyntax, "malformed fault"},
		{"bad fault: no message", `<methodResponse><fault><value><struct><member><name>faultCode</name><value><i4>1</i4></value></member></struct></value></fault></methodResponse>`, xmlrpc.ErrSyntax, "malformed fault"},
		{"fault then garbage", `<methodResponse><fault><value><struct><member><name>faultCode</name><value><i4>1</i4></value></member><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>x`, xmlrpc.ErrSyntax, "unexpected text"},
		{"too deep", resp(strings.Repeat("<array><data><value>", 33) + strings.Repeat("</value></data></array>", 33)), xmlrpc.ErrTooDeep, "more than 32 levels"},
		{"too deep struct", resp(strings.Repeat("<struct><member><name>a</name><value>", 33) + strings.Repeat("</value></member></struct>", 33)), xmlrpc.ErrTooDeep, "more than 32 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range readers([]byte(tt.doc)) {
				v, err := xmlrpc.DecodeResponse(r.r)
				if err == nil {
					t.Fatalf("%s: decoded %v, want an error", r.name, v)
				}
				if !errors.Is(err, tt.target) || !strings.Contains(err.Error(), tt.message) {
					t.Fatalf("%s: got %q, want an error wrapping %v containing %q", r.name, err, tt.target, tt.message)
				}
				if !errors.Is(err, xmlrpc.ErrSyntax) && !errors.Is(err, xmlrpc.ErrTooDeep) {
					t.Fatalf("%s: %q wraps neither ErrSyntax nor ErrTooDeep", r.name, err)
				}
				var f *xmlrpc.Fault
				if errors.As(err, &f) {
					t.Fatalf("%s: %q is a fault", r.name, err)
				}
			}
		})
	}
}

// TestDecodeErrorOffset checks that the byte offset in a message is the
// offset of the offending tag in the input.
func TestDecodeErrorOffset(t *testing.T) {
	doc := resp(`<array><data><value><string>x</value></data></array>`)
	_, err := decodeString(doc)
	want := fmt.Sprintf("xmlrpc: malformed document: at byte %d: expected </string>, found </value>", strings.Index(doc, "</value>"))
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	// The same past the first window of the decoder.
	pad := strings.Repeat(" ", 200<<10)
	doc = `<methodResponse>` + pad + `<params><param><value><i4>1</i4></value></param></params></methodResponse>x`
	_, err = xmlrpc.DecodeResponse(iotest.HalfReader(strings.NewReader(doc)))
	want = fmt.Sprintf("at byte %d: unexpected text", len(doc)-1)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestDecodeTruncated cuts valid documents at every byte before the end of
// their root element: each prefix must fail as cut short.
func TestDecodeTruncated(t *testing.T) {
	docs := map[string]string{
		"flood-multicall": string(fixtureBody(t, "flood-multicall.scgi")),
		"fault":           string(fixtureBody(t, "unknown-command.scgi")),
		"kinds": resp(`<array><data><value><struct><member><name>a&amp;b</name><value><i8>-12</i8></value></member></struct></value>` +
			`<value><![CDATA[x]]>&#x1F600;<!-- c --></value><value><base64>aGVsbG8=</base64></value><value><double>1.5</double></value>` +
			`<value><boolean>1</boolean></value><value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value><value><nil/></value></data></array>`),
	}
	for name, doc := range docs {
		end := strings.LastIndex(doc, "</methodResponse>") + len("</methodResponse>")
		for n := range end {
			_, err := decodeString(doc[:n])
			if !errors.Is(err, xmlrpc.ErrSyntax) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s cut at %d (%q): got %v, want a syntax error wrapping io.ErrUnexpectedEOF", name, n, doc[max(0, n-20):n], err)
			}
		}
		var f *xmlrpc.Fault
		if _, err := decodeString(doc[:end]); err != nil && !errors.As(err, &f) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestDecodeFault(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want xmlrpc.Fault
	}{
		{"rtorrent", string(fixtureBody(t, "unknown-command.scgi")), xmlrpc.Fault{Code: -506, Message: "Method 'no.such.command' not defined"}},
		{"i8 code, untyped message, extra member", `<methodResponse><fault><value><struct><member><name>faultString</name><value>a &lt; b</value></member>` +
			`<member><name>extra</name><value><i4>1</i4></value></member><member><name>faultCode</name><value><i8>-9000000000</i8></value></member></struct></value></fault></methodResponse>`,
			xmlrpc.Fault{Code: -9000000000, Message: "a < b"}},
		{"empty message", `<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value><string/></value></member></struct></value></fault></methodResponse>`,
			xmlrpc.Fault{Code: 1, Message: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := decodeString(tt.doc)
			var f *xmlrpc.Fault
			if !errors.As(err, &f) {
				t.Fatalf("got %v, %v; want a *Fault", v, err)
			}
			if *f != tt.want {
				t.Fatalf("got %+v, want %+v", *f, tt.want)
			}
			if !v.IsNil() || errors.Is(err, xmlrpc.ErrSyntax) {
				t.Fatalf("got value %v and error %v with the fault", v, err)
			}
		})
	}
}

// TestDecodeMulticallFault checks that a fault inside a system.multicall
// result is an ordinary struct value, not an error.
func TestDecodeMulticallFault(t *testing.T) {
	v, err := xmlrpc.DecodeResponse(bytes.NewReader(fixtureBody(t, "system-multicall-fault.scgi")))
	if err != nil {
		t.Fatal(err)
	}
	want := arr(arr(i64(0)), xmlrpc.NewStruct(
		xmlrpc.Member{Name: "faultCode", Value: i64(-506)},
		xmlrpc.Member{Name: "faultString", Value: str("Method 'nope.nope' not defined")},
	))
	if !v.Equal(want) {
		t.Fatalf("got %v, want %v", v, want)
	}
	code, _ := v.Index(1).Member("faultCode")
	if code.Int() != xmlrpc.FaultNoMethod {
		t.Fatalf("faultCode %v", code)
	}
}

// TestDecodeFixtures decodes every recorded rTorrent reply, through
// readers that split it everywhere, and compares the result with its
// golden rendering (go test -update rewrites them).
func TestDecodeFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "rtorrent-0.9.8", "*.scgi"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			body := fixtureBody(t, name)
			v, err := xmlrpc.DecodeResponse(bytes.NewReader(body))
			got := fmt.Sprintf("value: %v\nkind: %v\nerror: %v\n", v, v.Kind(), err)
			checkGolden(t, strings.TrimSuffix(name, ".scgi")+".txt", got)
			for _, r := range readers(body) {
				v2, err2 := xmlrpc.DecodeResponse(r.r)
				if !v2.Equal(v) || fmt.Sprint(err2) != fmt.Sprint(err) {
					t.Fatalf("%s: got %v, %v; want %v, %v", r.name, v2, err2, v, err)
				}
			}
		})
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "testdata", "xmlrpc", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestDecodeCall(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		wantMethod string
		wantParams []xmlrpc.Value
	}{
		{"no params element", `<methodCall><methodName>system.listMethods</methodName></methodCall>`, "system.listMethods", nil},
		{"params self-closing", `<methodCall><methodName>x</methodName><params/></methodCall>`, "x", nil},
		{"params empty", `<?xml version="1.0"?><methodCall><methodName>x</methodName><params></params></methodCall>`, "x", nil},
		{"empty method name", `<methodCall><methodName/></methodCall>`, "", nil},
		{"params", "<methodCall>\n<methodName>d.name</methodName>\n<params>\n<!-- c -->\n<param><value><string>ABC</string></value></param>\n<param><value/></param>\n<param><value><i4>1</i4></value></param>\n</params>\n</methodCall>\n",
			"d.name", []xmlrpc.Value{str("ABC"), str(""), i64(1)}},
		{"method name entity", `<methodCall><methodName>a&amp;b</methodName></methodCall>`, "a&b", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range readers([]byte(tt.doc)) {
				method, params, err := xmlrpc.DecodeCall(r.r)
				if err != nil {
					t.Fatalf("%s: %v", r.name, err)
				}
				if method != tt.wantMethod || !equalValues(params, tt.wantParams) {
					t.Fatalf("%s: got %q %v, want %q %v", r.name, method, params, tt.wantMethod, tt.wantParams)
				}
			}
		})
	}
}

func equalValues(a, b []xmlrpc.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func TestDecodeCallFlood(t *testing.T) {
	method, params, err := xmlrpc.DecodeCall(bytes.NewReader(fixtureBody(t, "flood-multicall.call.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if method != "d.multicall2" || len(params) != 33 {
		t.Fatalf("got %q with %d params", method, len(params))
	}
	if !params[0].Equal(str("")) || !params[1].Equal(str("main")) || !params[32].Equal(str("d.peers_accounted=")) {
		t.Fatalf("params %v", params)
	}
}

func TestDecodeCallErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		message string
	}{
		{"response", `<methodResponse><params/></methodResponse>`, "expected <methodCall>, found <methodResponse>"},
		{"no method name", `<methodCall><params/></methodCall>`, "expected <methodName>, found <params/>"},
		{"param self-closing", `<methodCall><methodName>x</methodName><params><param/></params></methodCall>`, "expected <param> or </params>, found <param/>"},
		{"value outside param", `<methodCall><methodName>x</methodName><params><value/></params></methodCall>`, "expected <param> or </params>, found <value/>"},
		{"two params elements", `<methodCall><methodName>x</methodName><params/><params/></methodCall>`, "expected </methodCall>, found <params/>"},
		{"element in method name", `<methodCall><methodName>x<y/></methodName></methodCall>`, "expected </methodName>, found <y/>"},
		{"trailing garbage", `<methodCall><methodName>x</methodName></methodCall><x>`, "data after the root element"},
		{"truncated", `<methodCall><methodName>x</methodName><params><param>`, "unexpected end of input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := xmlrpc.DecodeCall(strings.NewReader(tt.doc))
			if !errors.Is(err, xmlrpc.ErrSyntax) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("got %v, want a syntax error containing %q", err, tt.message)
			}
		})
	}
}

func TestDecodeMaxDepth(t *testing.T) {
	nested := func(n int) string {
		return resp(strings.Repeat("<array><data><value>", n) + "x" + strings.Repeat("</value></data></array>", n))
	}
	tests := []struct {
		name    string
		opts    *xmlrpc.DecodeOptions
		levels  int
		tooDeep bool
	}{
		{"default allows 32", nil, 32, false},
		{"default rejects 33", nil, 33, true},
		{"zero means default", &xmlrpc.DecodeOptions{}, 33, true},
		{"2 allows 2", &xmlrpc.DecodeOptions{MaxDepth: 2}, 2, false},
		{"2 rejects 3", &xmlrpc.DecodeOptions{MaxDepth: 2}, 3, true},
		{"100 allows 100", &xmlrpc.DecodeOptions{MaxDepth: 100}, 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := xmlrpc.NewDecoder(strings.NewReader(nested(tt.levels)), tt.opts)
			_, err := d.DecodeResponse()
			if got := errors.Is(err, xmlrpc.ErrTooDeep); got != tt.tooDeep || (!tt.tooDeep && err != nil) {
				t.Fatalf("got %v, want too deep: %v", err, tt.tooDeep)
			}
		})
	}
}

// TestDecodeLongText decodes texts far longer than the decoder's window,
// with entities, CDATA and line ends at every kind of boundary.
func TestDecodeLongText(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var text, want strings.Builder
	pieces := []struct{ in, out string }{
		{"a", "a"}, {"日本", "日本"}, {"&amp;", "&"}, {"&#x1F600;", "😀"}, {"\r\n", "\n"}, {"\r", "\n"},
		{"<![CDATA[<&]]>", "<&"}, {"<!-- -->", ""}, {"<![CDATA[\r\n]]>", "\n"}, {strings.Repeat("x", 1000), strings.Repeat("x", 1000)},
	}
	for text.Len() < 300<<10 {
		p := pieces[rng.IntN(len(pieces))]
		text.WriteString(p.in)
		want.WriteString(p.out)
	}
	doc := []byte(resp(`<array><data><value><string>` + text.String() + `</string></value><value>` + text.String() + `</value>` +
		`<value><base64>` + strings.Repeat("aGVs\r\nbG8h", 50000) + `</base64></value></data></array>`))
	wantV := arr(str(want.String()), str(want.String()), xmlrpc.NewBase64([]byte(strings.Repeat("hello!", 50000))))
	for _, r := range readers(doc) {
		v, err := xmlrpc.DecodeResponse(r.r)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if !v.Equal(wantV) {
			t.Fatalf("%s: decoded text differs", r.name)
		}
	}
}

func TestDecodeReaderErrors(t *testing.T) {
	doc := fixtureBody(t, "flood-multicall.scgi")
	tests := []struct {
		name   string
		r      io.Reader
		target error
	}{
		{"timeout", iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(doc))), iotest.ErrTimeout},
		{"error after data", io.MultiReader(bytes.NewReader(doc[:100]), iotest.ErrReader(errBroken)), errBroken},
		{"no progress", zeroReader{}, io.ErrNoProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := xmlrpc.DecodeResponse(tt.r)
			if !errors.Is(err, tt.target) || errors.Is(err, xmlrpc.ErrSyntax) {
				t.Fatalf("got %v, want an I/O error wrapping %v", err, tt.target)
			}
		})
	}
	// A nil reader is an empty document, not a panic.
	d := xmlrpc.NewDecoder(nil, nil)
	if _, err := d.DecodeResponse(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("nil reader: %v", err)
	}
}

var errBroken = errors.New("broken pipe")

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// TestDecoderReset reuses one Decoder across documents, including after
// errors, and checks that earlier results are not disturbed.
func TestDecoderReset(t *testing.T) {
	d := xmlrpc.NewDecoder(nil, nil)
	body := fixtureBody(t, "flood-multicall.scgi")
	d.Reset(bytes.NewReader(body))
	first, err := d.DecodeResponse()
	if err != nil {
		t.Fatal(err)
	}
	keep := first.String()
	for i := range 20 {
		switch i % 4 {
		case 0:
			d.Reset(strings.NewReader(resp(`<array><data><value>` + strings.Repeat("<string>z</string>", 2))))
			if _, err := d.DecodeResponse(); err == nil {
				t.Fatal("want an error")
			}
		case 1:
			d.Reset(bytes.NewReader(fixtureBody(t, "listMethods.scgi")))
			if v, err := d.DecodeResponse(); err != nil || v.Len() != 735 {
				t.Fatalf("listMethods: %d, %v", v.Len(), err)
			}
		case 2:
			d.Reset(bytes.NewReader(fixtureBody(t, "flood-multicall.call.xml")))
			if _, params, err := d.DecodeCall(); err != nil || len(params) != 33 {
				t.Fatalf("call: %d, %v", len(params), err)
			}
		case 3:
			d.Reset(bytes.NewReader(body))
			v, err := d.DecodeResponse()
			if err != nil || !v.Equal(first) {
				t.Fatalf("again: %v", err)
			}
		}
	}
	if first.String() != keep {
		t.Fatal("an earlier result changed")
	}
	// A second decode without Reset finds the input used up.
	if _, err := d.DecodeResponse(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("decode without Reset: %v", err)
	}
}

// TestDecodeAllocs checks the promise behind the benchmark: a reused
// Decoder allocates once per distinct non-empty string, and almost nothing
// else.
func TestDecodeAllocs(t *testing.T) {
	const rows, fields = 200, 10
	var b strings.Builder
	b.WriteString("<methodResponse><params><param><value><array><data>\r\n")
	for i := range rows {
		b.WriteString("<value><array><data>\r\n")
		for j := range fields {
			fmt.Fprintf(&b, "<value><string>row %d field %d</string></value>\r\n<value><i8>%d</i8></value>\r\n<value><string></string></value>\r\n", i, j, i*j)
		}
		b.WriteString("</data></array></value>\r\n")
	}
	b.WriteString("</data></array></value></param></params></methodResponse>")
	doc := b.String()
	r := strings.NewReader(doc)
	d := xmlrpc.NewDecoder(r, nil)
	allocs := testing.AllocsPerRun(10, func() {
		r.Reset(doc)
		d.Reset(r)
		if _, err := d.DecodeResponse(); err != nil {
			t.Fatal(err)
		}
	})
	strs := float64(rows * fields)
	// The lists: one slab chunk per 512 values, the top-level array alone.
	lists := float64(rows*fields*3)/512 + 2
	if allocs > strs+lists {
		t.Fatalf("%.0f allocations for %.0f distinct strings", allocs, strs)
	}
	t.Logf("%.0f allocations for %.0f distinct strings and %d empty ones", allocs, strs, rows*fields)
}

// TestDecodeMulticallBody decodes the benchmark's reply, megabytes long,
// through readers that split it everywhere: rTorrent's layout at every
// position relative to the window's edges.
func TestDecodeMulticallBody(t *testing.T) {
	body, strs := multicallBody(2000)
	var want xmlrpc.Value
	for i, r := range readers(body) {
		v, err := xmlrpc.DecodeResponse(r.r)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		if i == 0 {
			want = v
			n := 0
			for _, row := range v.Values() {
				for _, field := range row.Values() {
					if field.Kind() == xmlrpc.String {
						n++
					}
				}
			}
			if v.Len() != 2000 || v.Index(0).Len() != benchFields || n != strs {
				t.Fatalf("%d rows of %d fields, %d strings", v.Len(), v.Index(0).Len(), n)
			}
		} else if !v.Equal(want) {
			t.Fatalf("%s: differs", r.name)
		}
	}
}

// TestPooledDecoderPinsNothing: a Decoder kept for reuse (rtgate pools
// them) holds nothing of what it decoded once Reset: after fifty decodes
// of a big reply, through the pool as rtgate's clients decode, the heap is
// where it was before the first. (A kept slab chunk and stale stack
// entries pinned replies: a 3,000-download sweep every 300 ms grew the
// poller's heap by 10 MB a second.)
func TestPooledDecoderPinsNothing(t *testing.T) {
	var b strings.Builder
	b.WriteString("<methodResponse><params><param><value><array><data>")
	b.WriteString("<value><array><data><value><array><data>")
	for i := range 3000 {
		fmt.Fprintf(&b, "<value><array><data><value><string>%040d</string></value><value><i8>%d</i8></value><value><array><data><value><i8>1</i8></value></data></array></value></data></array></value>", i, i)
	}
	b.WriteString("</data></array></value></data></array></value></data></array></value></param></params></methodResponse>")
	doc := b.String()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() { // goroutines, as rtgate's callers are: the pool's per-P caches
			defer wg.Done()
			if _, err := xmlrpc.DecodeResponse(strings.NewReader(doc)); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
	}
	after := heap()
	runtime.KeepAlive(doc)
	if after > before+1<<20 { // the pooled Decoders' own buffers, a few hundred KB
		t.Errorf("heap %d KB after 50 decodes, %d KB before", after>>10, before>>10)
	}
}
