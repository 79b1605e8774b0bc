package xmlrpc_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	kolo "github.com/kolo/xmlrpc"

	"github.com/rtgate/rtgate/xmlrpc"
)

// Differences from kolo/xmlrpc.
//
// github.com/kolo/xmlrpc (v0.0.0-20220921171641-a4b6fa1dd06b) is the Go
// XML-RPC client most rTorrent tools use, so this package is tested
// against it: both must agree wherever kolo succeeds and kolo is right.
// Where kolo is wrong we differ, and TestKoloDifferences pins each claim
// to kolo's actual behaviour (the reasons are from its decoder.go,
// encoder.go and response.go):
//
//   - <string></string> and <string/> decode to nil, not "": the default
//     case of decodeValue returns on the end element without setting the
//     value. <value></value>, <value/> and an untyped <value> holding only
//     whitespace are nil too.
//   - An untyped <value>text</value> fails when decoding into an
//     interface{} (checkType wants a string kind and finds interface);
//     into a string it is trimmed, although XML-RPC keeps the whitespace.
//   - <base64> is returned as its text, undecoded.
//   - <dateTime.iso8601> becomes a time.Time, and any text outside its
//     four layouts is an error; we keep the text as the server wrote it.
//   - Integers are written as <int> (signed) or <i4> (unsigned), never
//     <i8>, even past 32 bits, where the specification's <int> is a
//     32-bit integer.
//   - Method and member names are written without escaping, so a name
//     with '&' or '<' makes a malformed document.
//   - There is no way to decode a methodCall: Response.Unmarshal decodes
//     the first <value> anywhere in a document and ignores the method.
//   - Only the first text token of a scalar is read: text after a
//     comment, processing instruction or CDATA section is dropped.
//   - The structure is hardly checked: the first <value> is decoded and
//     the rest skipped, so trailing garbage, extra params, a <params>-less
//     document and elements after a scalar are all accepted.
//   - An empty <i4></i4> (or any type) decodes to nil instead of failing,
//     while an empty member name, <name></name>, is an error.
//   - Booleans go through strconv.ParseBool, so "true" and "T" pass, while
//     integers and booleans with surrounding whitespace fail.
//   - Doubles go through strconv.ParseFloat, so "NaN", "Inf" and hex
//     floats pass.
//   - encoding/xml in strict mode rejects the characters XML 1.0 forbids,
//     even as character references (&#x1;), and invalid UTF-8: torrent
//     names holding them cannot be decoded at all.
//   - A fault is not an error of Unmarshal (it decodes the fault struct as
//     the result); Response.Err finds faults with a regular expression
//     that also matches "<fault>...</fault>" inside a string.

// koloDecode decodes doc with kolo into an interface{}; a panic in kolo
// counts as a failure.
func koloDecode(doc []byte) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("kolo panicked: %v", p)
		}
	}()
	err = kolo.Response(doc).Unmarshal(&v)
	return v, err
}

func koloFault(doc []byte) (f kolo.FaultError, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("kolo panicked: %v", p)
		}
	}()
	err = kolo.Response(doc).Err()
	if !errors.As(err, &f) {
		return f, fmt.Errorf("kolo found no fault: %v", err)
	}
	return f, nil
}

// koloTimeLayouts are kolo's dateTime layouts (its unexported timeLayouts).
var koloTimeLayouts = []string{"20060102T15:04:05", "20060102T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04:05Z07:00"}

func koloTime(text string) (time.Time, bool) {
	for _, layout := range koloTimeLayouts {
		if t, err := time.Parse(layout, text); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// agreesWithKolo compares our value with kolo's decoding of the same
// document, allowing for the documented differences.
func agreesWithKolo(v xmlrpc.Value, k any) error {
	ok := false
	switch v.Kind() {
	case xmlrpc.Nil:
		ok = k == nil
	case xmlrpc.String:
		if k == nil {
			ok = strings.TrimLeft(v.String(), " \t\r\n") == "" // empty or whitespace-only: nil in kolo
		} else {
			s, isString := k.(string)
			ok = isString && s == v.String()
		}
	case xmlrpc.Int:
		n, isInt := k.(int64)
		ok = isInt && n == v.Int()
	case xmlrpc.Bool:
		b, isBool := k.(bool)
		ok = isBool && b == v.Bool()
	case xmlrpc.Double:
		f, isFloat := k.(float64)
		ok = isFloat && math.Float64bits(f) == math.Float64bits(v.Float())
	case xmlrpc.Base64:
		if k == nil {
			ok = len(v.String()) == 0
		} else if s, isString := k.(string); isString {
			s = strings.Map(func(r rune) rune {
				if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
					return -1
				}
				return r
			}, s)
			enc := base64.StdEncoding
			if len(s)%4 != 0 {
				enc = base64.RawStdEncoding
			}
			b, err := enc.DecodeString(s)
			ok = err == nil && string(b) == v.String()
		}
	case xmlrpc.DateTime:
		if k == nil {
			ok = v.String() == ""
		} else if kt, isTime := k.(time.Time); isTime {
			t, parsed := koloTime(v.String())
			ok = parsed && t.Equal(kt)
		}
	case xmlrpc.Array:
		ks, isSlice := k.([]any)
		if !isSlice || len(ks) != v.Len() {
			return fmt.Errorf("array of %d, kolo has %#v", v.Len(), k)
		}
		for i, e := range v.Values() {
			if err := agreesWithKolo(e, ks[i]); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	case xmlrpc.Struct:
		km, isMap := k.(map[string]any)
		members := map[string]xmlrpc.Value{}
		for name, m := range v.Members() {
			members[name] = m // the last of duplicate names wins, as in kolo
		}
		if !isMap || len(km) != len(members) {
			return fmt.Errorf("struct of %d members, kolo has %#v", len(members), k)
		}
		for name, m := range members {
			if err := agreesWithKolo(m, km[name]); err != nil {
				return fmt.Errorf("%q: %w", name, err)
			}
		}
		return nil
	}
	if !ok {
		return fmt.Errorf("we have %v (%v), kolo has %#v", v, v.Kind(), k)
	}
	return nil
}

// koloCanCarry reports whether kolo can read v correctly from our
// canonical encoding: its texts hold only characters XML 1.0 allows, in
// valid UTF-8, dateTimes are in kolo's layouts and member names are not
// empty (kolo fails on <name></name>).
func koloCanCarry(v xmlrpc.Value) bool {
	switch v.Kind() {
	case xmlrpc.String:
		return xmlText(v.String())
	case xmlrpc.DateTime:
		_, ok := koloTime(v.String())
		return v.String() == "" || ok
	case xmlrpc.Array:
		for _, e := range v.Values() {
			if !koloCanCarry(e) {
				return false
			}
		}
	case xmlrpc.Struct:
		for name, m := range v.Members() {
			if name == "" || !xmlText(name) || !koloCanCarry(m) {
				return false
			}
		}
	case xmlrpc.Double:
		f := v.Float()
		return !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return true
}

// xmlText reports whether s is UTF-8 holding only characters XML 1.0
// allows, the test encoding/xml applies.
func xmlText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !(r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			return false
		}
	}
	return true
}

// koloMayMisread reports whether doc has constructs kolo reads wrongly
// even when it succeeds: comments, processing instructions after the
// declaration and CDATA sections (kolo drops the text after them), and
// "<fault>" text (kolo's fault check is a regular expression).
func koloMayMisread(doc []byte) bool {
	return bytes.Contains(doc, []byte("<!")) ||
		bytes.LastIndex(doc, []byte("<?")) > 0 ||
		bytes.Contains(doc, []byte("fault>"))
}

// checkDifferential is the body of TestDifferential and FuzzDifferential.
func checkDifferential(t *testing.T, doc []byte) {
	v, err := xmlrpc.DecodeResponse(bytes.NewReader(doc))
	var fault *xmlrpc.Fault
	isFault := errors.As(err, &fault)

	// 1. The document itself, where kolo succeeds and can be right.
	if !koloMayMisread(doc) {
		if k, kerr := koloDecode(doc); kerr == nil && err == nil {
			if derr := agreesWithKolo(v, k); derr != nil {
				t.Fatalf("differs from kolo on %q: %v", doc, derr)
			}
		}
	}
	if isFault && !bytes.Contains(doc, []byte("<![CDATA[")) {
		if kf, kerr := koloFault(doc); kerr == nil && (int64(kf.Code) != fault.Code ||
			strings.TrimSpace(kf.String) != strings.TrimSpace(fault.Message)) { // kolo trims untyped strings
			t.Fatalf("fault %+v, kolo has %+v, on %q", *fault, kf, doc)
		}
	}

	// 2. Our canonical encoding of what we decoded, which kolo must read.
	enc := xmlrpc.Encoder{AllowDouble: true, AllowNil: true}
	switch {
	case err == nil && koloCanCarry(v):
		out, eerr := enc.AppendResponse(nil, v)
		if eerr != nil {
			t.Fatalf("encoding %v: %v", v, eerr)
		}
		k, kerr := koloDecode(out)
		if kerr != nil {
			t.Fatalf("kolo cannot decode %q: %v", out, kerr)
		}
		if derr := agreesWithKolo(v, k); derr != nil {
			t.Fatalf("differs from kolo on our %q: %v", out, derr)
		}
	case isFault && xmlText(fault.Message):
		out := xmlrpc.AppendFault(nil, fault)
		kf, kerr := koloFault(out)
		if kerr != nil || int64(kf.Code) != fault.Code || kf.String != fault.Message {
			t.Fatalf("fault %+v, kolo has %+v, %v on our %q", *fault, kf, kerr, out)
		}
	}
}

// differentialSeeds are documents both decoders should agree on.
func differentialSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{
		[]byte(resp(`<string>x</string>`)),
		[]byte(resp(`<string></string>`)),
		[]byte(resp(`<string> a &amp; b </string>`)),
		[]byte(resp(``)),
		[]byte(resp(` `)),
		[]byte(resp(`<i4>-1</i4>`)),
		[]byte(resp(`<i8>9223372036854775807</i8>`)),
		[]byte(resp(`<boolean>1</boolean>`)),
		[]byte(resp(`<double>-0.5</double>`)),
		[]byte(resp(`<base64>aGVsbG8=</base64>`)),
		[]byte(resp(`<dateTime.iso8601>20240102T03:04:05</dateTime.iso8601>`)),
		[]byte(resp(`<nil/>`)),
		[]byte(resp(`<array><data><value><i4>1</i4></value><value><string/></value><value><array><data/></array></value></data></array>`)),
		[]byte(resp(`<struct><member><name>a</name><value><i4>1</i4></value></member><member><name>a</name><value><struct/></value></member></struct>`)),
		[]byte(`<methodResponse><fault><value><struct><member><name>faultCode</name><value><i4>-506</i4></value></member><member><name>faultString</name><value><string>no</string></value></member></struct></value></fault></methodResponse>`),
	}
	for _, name := range []string{"client_version.scgi", "flood-multicall.scgi", "listMethods.scgi", "system-multicall-fault.scgi", "unknown-command.scgi"} {
		seeds = append(seeds, fixtureBody(t, name))
	}
	return seeds
}

func TestDifferential(t *testing.T) {
	for i, doc := range differentialSeeds(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkDifferential(t, doc) })
	}
	for _, v := range roundTripValues() {
		out, err := xmlrpc.Encoder{AllowDouble: true, AllowNil: true}.AppendResponse(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		checkDifferential(t, out)
	}
	body, _ := multicallBody(100)
	checkDifferential(t, body)
}

func FuzzDifferential(f *testing.F) {
	for _, doc := range differentialSeeds(f) {
		f.Add(doc)
	}
	for _, doc := range seedFiles(f) {
		f.Add(doc)
	}
	f.Fuzz(checkDifferential)
}

// TestKoloDifferences pins the documented differences to what kolo does.
func TestKoloDifferences(t *testing.T) {
	decodes := []struct {
		name   string
		doc    string
		kolo   any  // kolo's result, when it succeeds
		koloOK bool // whether kolo succeeds
		ours   xmlrpc.Value
		oursOK bool
	}{
		{"empty string is nil", resp(`<string></string>`), nil, true, str(""), true},
		{"self-closing string is nil", resp(`<string/>`), nil, true, str(""), true},
		{"empty value is nil", resp(``), nil, true, str(""), true},
		{"whitespace value is nil", resp(` `), nil, true, str(" "), true},
		{"untyped value fails", resp(`abc`), nil, false, str("abc"), true},
		{"base64 undecoded", resp(`<base64>aGVsbG8=</base64>`), "aGVsbG8=", true, xmlrpc.NewBase64([]byte("hello")), true},
		{"dateTime parsed", resp(`<dateTime.iso8601>20240102T03:04:05</dateTime.iso8601>`), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), true, xmlrpc.NewDateTime("20240102T03:04:05"), true},
		{"dateTime other layout fails", resp(`<dateTime.iso8601>2024-01-02 03:04</dateTime.iso8601>`), nil, false, xmlrpc.NewDateTime("2024-01-02 03:04"), true},
		{"text after comment dropped", resp(`<string>a<!--c-->b</string>`), "a", true, str("ab"), true},
		{"text after CDATA dropped", resp(`<string>a<![CDATA[b]]></string>`), "a", true, str("ab"), true},
		{"text after processing instruction dropped", resp(`<string>a<?p x?>b</string>`), "a", true, str("ab"), true},
		{"empty member name fails", resp(`<struct><member><name></name><value><i4>1</i4></value></member></struct>`), nil, false, xmlrpc.NewStruct(xmlrpc.Member{Name: "", Value: i64(1)}), true},
		{"trailing garbage accepted", resp(`<i4>1</i4>`) + "<x>", int64(1), true, xmlrpc.Value{}, false},
		{"no params accepted", `<foo><value><i4>1</i4></value></foo>`, int64(1), true, xmlrpc.Value{}, false},
		{"extra params accepted", `<methodResponse><params><param><value><i4>1</i4></value></param><param><value><i4>2</i4></value></param></params></methodResponse>`, int64(1), true, xmlrpc.Value{}, false},
		{"element after scalar accepted", resp(`<i4>1</i4><x/>`), int64(1), true, xmlrpc.Value{}, false},
		{"empty int is nil", resp(`<i4></i4>`), nil, true, xmlrpc.Value{}, false},
		{"boolean true accepted", resp(`<boolean>true</boolean>`), true, true, xmlrpc.Value{}, false},
		{"int with whitespace fails", resp(`<i4> 1 </i4>`), nil, false, i64(1), true},
		{"boolean with whitespace fails", resp(`<boolean> 1 </boolean>`), nil, false, xmlrpc.NewBool(true), true},
		{"double NaN accepted", resp(`<double>NaN</double>`), math.NaN(), true, xmlrpc.Value{}, false},
		{"double Inf accepted", resp(`<double>Inf</double>`), math.Inf(1), true, xmlrpc.Value{}, false},
		{"double hex accepted", resp(`<double>0x1p3</double>`), 8.0, true, xmlrpc.Value{}, false},
		{"control character reference fails", resp(`<string>a&#x1;b</string>`), nil, false, str("a\x01b"), true},
		{"invalid UTF-8 fails", resp("<string>\xff</string>"), nil, false, str("\xff"), true},
		{"methodCall read as its first value", `<methodCall><methodName>d.name</methodName><params><param><value><string>H</string></value></param></params></methodCall>`, "H", true, xmlrpc.Value{}, false},
	}
	for _, tt := range decodes {
		t.Run(tt.name, func(t *testing.T) {
			k, kerr := koloDecode([]byte(tt.doc))
			if (kerr == nil) != tt.koloOK {
				t.Fatalf("kolo: %#v, %v; want success %v", k, kerr, tt.koloOK)
			}
			if tt.koloOK {
				if f, isFloat := tt.kolo.(float64); isFloat && math.IsNaN(f) {
					if kf, _ := k.(float64); !math.IsNaN(kf) {
						t.Fatalf("kolo: %#v, want NaN", k)
					}
				} else if kt, isTime := tt.kolo.(time.Time); isTime {
					if got, _ := k.(time.Time); !got.Equal(kt) {
						t.Fatalf("kolo: %#v, want %v", k, kt)
					}
				} else if k != tt.kolo {
					t.Fatalf("kolo: %#v, want %#v", k, tt.kolo)
				}
			}
			v, err := decodeString(tt.doc)
			if (err == nil) != tt.oursOK || (err == nil && !v.Equal(tt.ours)) {
				t.Fatalf("ours: %v, %v; want %v (success %v)", v, err, tt.ours, tt.oursOK)
			}
		})
	}

	t.Run("untyped value trimmed into a string", func(t *testing.T) {
		var s string
		if err := kolo.Response(resp(` a `)).Unmarshal(&s); err != nil || s != "a" {
			t.Fatalf("kolo: %q, %v", s, err)
		}
	})
	t.Run("ints written as int", func(t *testing.T) {
		out, err := kolo.EncodeMethodCall("m", int64(1)<<40, uint32(7))
		if err != nil || !bytes.Contains(out, []byte("<int>1099511627776</int>")) || !bytes.Contains(out, []byte("<i4>7</i4>")) {
			t.Fatalf("kolo: %s, %v", out, err)
		}
		ours, _ := xmlrpc.Encoder{}.AppendCall(nil, "m", []xmlrpc.Value{i64(1 << 40)})
		if !bytes.Contains(ours, []byte("<i8>1099511627776</i8>")) {
			t.Fatalf("ours: %s", ours)
		}
	})
	t.Run("names not escaped", func(t *testing.T) {
		out, err := kolo.EncodeMethodCall("a&b", map[string]any{"x<y": 1})
		if err != nil || !bytes.Contains(out, []byte("<methodName>a&b</methodName>")) || !bytes.Contains(out, []byte("<name>x<y</name>")) {
			t.Fatalf("kolo: %s, %v", out, err)
		}
	})
	t.Run("fault regexp matches inside a string", func(t *testing.T) {
		doc := resp(`<string>&lt;fault>&lt;/fault></string>`)
		doc = strings.ReplaceAll(doc, "&lt;fault>&lt;/fault>", "<![CDATA[<fault> </fault>]]>")
		if err := kolo.Response(doc).Err(); err == nil {
			t.Fatal("kolo found no fault")
		}
		if v, err := decodeString(doc); err != nil || v.String() != "<fault> </fault>" {
			t.Fatalf("ours: %v, %v", v, err)
		}
	})
	t.Run("fault is a value to Unmarshal", func(t *testing.T) {
		doc := fixtureBody(t, "unknown-command.scgi")
		k, err := koloDecode(doc)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := k.(map[string]any); !ok || m["faultCode"] != int64(-506) {
			t.Fatalf("kolo: %#v", k)
		}
	})
}
