package xmlrpc_test

import (
	"bytes"
	"errors"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/xmlrpc"
)

const decl = `<?xml version="1.0"?>`

func respOut(value string) string {
	return decl + `<methodResponse><params><param><value>` + value + `</value></param></params></methodResponse>`
}

func TestAppendResponse(t *testing.T) {
	all := xmlrpc.Encoder{AllowDouble: true, AllowNil: true}
	tests := []struct {
		name string
		enc  xmlrpc.Encoder
		v    xmlrpc.Value
		want string
	}{
		{"string", xmlrpc.Encoder{}, str("0.9.8"), `<string>0.9.8</string>`},
		{"empty string", xmlrpc.Encoder{}, str(""), `<string></string>`},
		{"escapes", xmlrpc.Encoder{}, str("a&b<c>d\"e'f\tg\nh\ri\x00j\x01k\x1fl\x7fm"),
			"<string>a&amp;b&lt;c&gt;d\"e'f\tg\nh&#13;i&#x0;j&#x1;k&#x1F;l\x7fm</string>"},
		{"invalid utf-8 as is", xmlrpc.Encoder{}, str("\xff\xfe"), "<string>\xff\xfe</string>"},
		{"i4", xmlrpc.Encoder{}, i64(-506), `<i4>-506</i4>`},
		{"i4 max", xmlrpc.Encoder{}, i64(math.MaxInt32), `<i4>2147483647</i4>`},
		{"i4 min", xmlrpc.Encoder{}, i64(math.MinInt32), `<i4>-2147483648</i4>`},
		{"i8 above int32", xmlrpc.Encoder{}, i64(math.MaxInt32 + 1), `<i8>2147483648</i8>`},
		{"i8 below int32", xmlrpc.Encoder{}, i64(math.MinInt32 - 1), `<i8>-2147483649</i8>`},
		{"i8 min", xmlrpc.Encoder{}, i64(math.MinInt64), `<i8>-9223372036854775808</i8>`},
		{"true", xmlrpc.Encoder{}, xmlrpc.NewBool(true), `<boolean>1</boolean>`},
		{"false", xmlrpc.Encoder{}, xmlrpc.NewBool(false), `<boolean>0</boolean>`},
		{"base64", xmlrpc.Encoder{}, xmlrpc.NewBase64([]byte("d8:announce")), `<base64>ZDg6YW5ub3VuY2U=</base64>`},
		{"base64 empty", xmlrpc.Encoder{}, xmlrpc.NewBase64(nil), `<base64></base64>`},
		{"dateTime", xmlrpc.Encoder{}, xmlrpc.NewDateTime("20240102T03:04:05"), `<dateTime.iso8601>20240102T03:04:05</dateTime.iso8601>`},
		{"array", xmlrpc.Encoder{}, arr(str(""), str("main"), i64(1)),
			`<array><data><value><string></string></value><value><string>main</string></value><value><i4>1</i4></value></data></array>`},
		{"array empty", xmlrpc.Encoder{}, arr(), `<array><data></data></array>`},
		{"struct", xmlrpc.Encoder{}, xmlrpc.NewStruct(xmlrpc.Member{Name: "methodName", Value: str("d.name")}, xmlrpc.Member{Name: "a<b", Value: arr()}),
			`<struct><member><name>methodName</name><value><string>d.name</string></value></member><member><name>a&lt;b</name><value><array><data></data></array></value></member></struct>`},
		{"struct empty", xmlrpc.Encoder{}, xmlrpc.NewStruct(), `<struct></struct>`},
		{"double", all, xmlrpc.NewDouble(-1.5), `<double>-1.5</double>`},
		{"double without exponent", all, xmlrpc.NewDouble(1e21), `<double>1000000000000000000000</double>`},
		{"double small", all, xmlrpc.NewDouble(1e-7), `<double>0.0000001</double>`},
		{"double negative zero", all, xmlrpc.NewDouble(math.Copysign(0, -1)), `<double>-0</double>`},
		{"nil", all, xmlrpc.Value{}, `<nil/>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.enc.AppendResponse([]byte("prefix"), tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if want := "prefix" + respOut(tt.want); string(got) != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
			back, err := xmlrpc.DecodeResponse(bytes.NewReader(got[len("prefix"):]))
			if err != nil || !back.Equal(tt.v) {
				t.Fatalf("decoded back as %v, %v", back, err)
			}
		})
	}
}

func TestAppendCall(t *testing.T) {
	got, err := xmlrpc.Encoder{}.AppendCall(nil, "d.multicall2", []xmlrpc.Value{str(""), str("main"), str("d.hash=")})
	if err != nil {
		t.Fatal(err)
	}
	want := decl + `<methodCall><methodName>d.multicall2</methodName><params>` +
		`<param><value><string></string></value></param><param><value><string>main</string></value></param><param><value><string>d.hash=</string></value></param>` +
		`</params></methodCall>`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	got, err = xmlrpc.Encoder{}.AppendCall(nil, "a&b", nil)
	if want := decl + `<methodCall><methodName>a&amp;b</methodName><params></params></methodCall>`; err != nil || string(got) != want {
		t.Fatalf("got %s, %v; want %s", got, err, want)
	}
}

// TestAppendCallFlood encodes the d.multicall2 call Flood sends and
// compares it byte for byte with the recorded request.
func TestAppendCallFlood(t *testing.T) {
	want := fixtureBody(t, "flood-multicall.call.xml")
	method, params, err := xmlrpc.DecodeCall(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	got, err := xmlrpc.Encoder{}.AppendCall(nil, method, params)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestAppendFault(t *testing.T) {
	tests := []struct {
		name string
		f    *xmlrpc.Fault
		want string
	}{
		{"rtorrent", &xmlrpc.Fault{Code: xmlrpc.FaultNoMethod, Message: "Method 'x' not defined"},
			decl + `<methodResponse><fault><value><struct><member><name>faultCode</name><value><i4>-506</i4></value></member>` +
				`<member><name>faultString</name><value><string>Method 'x' not defined</string></value></member></struct></value></fault></methodResponse>`},
		{"escaped, wide code", &xmlrpc.Fault{Code: 1 << 40, Message: "a<b"},
			decl + `<methodResponse><fault><value><struct><member><name>faultCode</name><value><i8>1099511627776</i8></value></member>` +
				`<member><name>faultString</name><value><string>a&lt;b</string></value></member></struct></value></fault></methodResponse>`},
		{"nil", nil,
			decl + `<methodResponse><fault><value><struct><member><name>faultCode</name><value><i4>0</i4></value></member>` +
				`<member><name>faultString</name><value><string></string></value></member></struct></value></fault></methodResponse>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := xmlrpc.AppendFault(nil, tt.f)
			if string(got) != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
			_, err := xmlrpc.DecodeResponse(bytes.NewReader(got))
			var f *xmlrpc.Fault
			want := xmlrpc.Fault{}
			if tt.f != nil {
				want = *tt.f
			}
			if !errors.As(err, &f) || *f != want {
				t.Fatalf("decoded back as %v", err)
			}
		})
	}
}

func TestEncodeUnsupported(t *testing.T) {
	tests := []struct {
		name    string
		enc     xmlrpc.Encoder
		params  []xmlrpc.Value
		target  error
		message string
	}{
		{"double", xmlrpc.Encoder{}, []xmlrpc.Value{str(""), xmlrpc.NewDouble(1)}, xmlrpc.ErrUnsupported, "param 1: xmlrpc: value not allowed by the encoder's dialect: double"},
		{"nil", xmlrpc.Encoder{AllowDouble: true}, []xmlrpc.Value{{}}, xmlrpc.ErrUnsupported, "param 0: xmlrpc: value not allowed by the encoder's dialect: nil"},
		{"nested nil", xmlrpc.Encoder{}, []xmlrpc.Value{arr(xmlrpc.NewStruct(xmlrpc.Member{Name: "x", Value: xmlrpc.Value{}}))}, xmlrpc.ErrUnsupported, `param 0: member "x": xmlrpc: value not allowed by the encoder's dialect: nil`},
		{"NaN", xmlrpc.Encoder{AllowDouble: true}, []xmlrpc.Value{xmlrpc.NewDouble(math.NaN())}, xmlrpc.ErrUnsupported, "double NaN has no XML-RPC form"},
		{"infinity", xmlrpc.Encoder{AllowDouble: true}, []xmlrpc.Value{xmlrpc.NewDouble(math.Inf(-1))}, xmlrpc.ErrUnsupported, "double -Inf has no XML-RPC form"},
		{"cyclic", xmlrpc.Encoder{}, []xmlrpc.Value{cyclic()}, xmlrpc.ErrTooDeep, "more than 1000 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := tt.enc.AppendCall(dst, "m", tt.params)
			if !errors.Is(err, tt.target) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("got %v, want an error wrapping %v containing %q", err, tt.target, tt.message)
			}
			if string(got) != "keep" {
				t.Fatalf("dst became %q", got)
			}
			if len(tt.params) == 1 {
				got, err = tt.enc.AppendResponse(dst, tt.params[0])
				if !errors.Is(err, tt.target) || string(got) != "keep" {
					t.Fatalf("AppendResponse: %q, %v", got, err)
				}
			}
		})
	}
}

// cyclic returns an array that contains itself, which only modifying a
// slice after NewArray can build.
func cyclic() xmlrpc.Value {
	elems := make([]xmlrpc.Value, 1)
	v := xmlrpc.NewArray(elems...)
	elems[0] = v
	return v
}

// TestEncoderFloodDialect checks that the zero Encoder writes only the tags
// Flood's parser accepts, plus base64.
func TestEncoderFloodDialect(t *testing.T) {
	v := arr(str("x"), i64(1), i64(1<<40), xmlrpc.NewBool(true), xmlrpc.NewBase64([]byte{1}), arr(),
		xmlrpc.NewStruct(xmlrpc.Member{Name: "a", Value: arr(str(""))}))
	out, err := xmlrpc.Encoder{}.AppendResponse(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	flood := []string{"methodResponse", "params", "param", "value", "data", "array", "struct", "member", "name", "fault", "boolean", "i4", "i8", "int", "string", "base64"}
	for _, m := range regexp.MustCompile(`</?([^>/ ]+)`).FindAllStringSubmatch(string(out), -1) {
		if m[1] != "?xml" && !slices.Contains(flood, m[1]) {
			t.Errorf("tag <%s> is outside Flood's dialect", m[1])
		}
	}
}

// roundTripValues are values whose encoding is easy to get wrong.
func roundTripValues() []xmlrpc.Value {
	var all strings.Builder
	for c := range 256 {
		all.WriteByte(byte(c))
	}
	return []xmlrpc.Value{
		{},
		str(""), str(" "), str(" \t\n "), str("\r\n"), str("\r"), str("]]>"), str("<![CDATA[x]]>"), str("<!-- c -->"),
		str("&amp;"), str("&#13;"), str(all.String()), str("日本語 Über 😀"), str("\xff\xfe\xfd"),
		i64(0), i64(-1), i64(math.MaxInt64), i64(math.MinInt64), i64(math.MaxInt32 + 1),
		xmlrpc.NewBool(true), xmlrpc.NewBool(false),
		xmlrpc.NewDouble(0), xmlrpc.NewDouble(math.Copysign(0, -1)), xmlrpc.NewDouble(math.MaxFloat64), xmlrpc.NewDouble(math.SmallestNonzeroFloat64),
		xmlrpc.NewDouble(-123.456e-300), xmlrpc.NewDouble(0.1),
		xmlrpc.NewBase64(nil), xmlrpc.NewBase64([]byte(all.String())),
		xmlrpc.NewDateTime(""), xmlrpc.NewDateTime("2024-01-02T03:04:05Z"), xmlrpc.NewDateTime(" <&> "),
		arr(), arr(arr(), xmlrpc.NewStruct(), str(""), xmlrpc.Value{}),
		xmlrpc.NewStruct(xmlrpc.Member{Name: "", Value: str("")}, xmlrpc.Member{Name: "a", Value: i64(1)}, xmlrpc.Member{Name: "a", Value: i64(2)},
			xmlrpc.Member{Name: "\r<&>\x01 ", Value: arr(xmlrpc.NewStruct())}),
	}
}

func TestRoundTrip(t *testing.T) {
	enc := xmlrpc.Encoder{AllowDouble: true, AllowNil: true}
	values := roundTripValues()
	for _, v := range values {
		out, err := enc.AppendResponse(nil, v)
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		back, err := xmlrpc.DecodeResponse(bytes.NewReader(out))
		if err != nil || !back.Equal(v) {
			t.Fatalf("%v (%v) came back as %v (%v), %v from\n%q", v, v.Kind(), back, back.Kind(), err, out)
		}
	}
	out, err := enc.AppendCall(nil, "system.multicall", values)
	if err != nil {
		t.Fatal(err)
	}
	method, params, err := xmlrpc.DecodeCall(bytes.NewReader(out))
	if err != nil || method != "system.multicall" || !equalValues(params, values) {
		t.Fatalf("call came back as %q %v, %v", method, params, err)
	}
}

func TestEncodeAllocs(t *testing.T) {
	v := arr(str("a&b"), i64(1<<40), xmlrpc.NewBase64([]byte("xyz")), xmlrpc.NewStruct(xmlrpc.Member{Name: "n", Value: str("v")}))
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = (xmlrpc.Encoder{}).AppendResponse(buf[:0], v); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per encode into a large enough buffer", allocs)
	}
}
