package xmlrpc_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rtgate/rtgate/xmlrpc"
)

func ExampleDecoder_DecodeResponse() {
	reply := `<?xml version="1.0" encoding="UTF-8"?>
<methodResponse>
<params>
<param><value><array><data>
<value><array><data>
<value><string>9CF603B996C3D2BAC17EA21E2C066B5E36C169CC</string></value>
<value><string>Über &amp; more.iso</string></value>
<value><i8>1795273404</i8></value>
</data></array></value>
</data></array></value></param>
</params>
</methodResponse>
`
	dec := xmlrpc.NewDecoder(strings.NewReader(reply), nil)
	rows, err := dec.DecodeResponse()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, row := range rows.Values() {
		fmt.Println(row.Index(0), row.Index(1), row.Index(2).Int())
	}
	// Output:
	// 9CF603B996C3D2BAC17EA21E2C066B5E36C169CC Über & more.iso 1795273404
}

func ExampleDecoder_DecodeResponse_fault() {
	reply := `<methodResponse><fault><value><struct>
<member><name>faultCode</name><value><i4>-506</i4></value></member>
<member><name>faultString</name><value><string>Method 'x' not defined</string></value></member>
</struct></value></fault></methodResponse>`
	_, err := xmlrpc.DecodeResponse(strings.NewReader(reply))
	var fault *xmlrpc.Fault
	if errors.As(err, &fault) && fault.Code == xmlrpc.FaultNoMethod {
		fmt.Println("no such method:", fault.Message)
	}
	// Output:
	// no such method: Method 'x' not defined
}

func ExampleEncoder_AppendCall() {
	body, err := xmlrpc.Encoder{}.AppendCall(nil, "d.multicall2", []xmlrpc.Value{
		xmlrpc.NewString(""), xmlrpc.NewString("main"), xmlrpc.NewString("d.size_bytes="),
	})
	fmt.Println(string(body), err)

	_, err = xmlrpc.Encoder{}.AppendCall(nil, "x", []xmlrpc.Value{xmlrpc.NewDouble(0.5)})
	fmt.Println(errors.Is(err, xmlrpc.ErrUnsupported), err)
	// Output:
	// <?xml version="1.0"?><methodCall><methodName>d.multicall2</methodName><params><param><value><string></string></value></param><param><value><string>main</string></value></param><param><value><string>d.size_bytes=</string></value></param></params></methodCall> <nil>
	// true param 0: xmlrpc: value not allowed by the encoder's dialect: double
}

func ExampleAppendFault() {
	fmt.Println(string(xmlrpc.AppendFault(nil, &xmlrpc.Fault{Code: xmlrpc.FaultRefused, Message: "refused"})))
	// Output:
	// <?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value><i4>-507</i4></value></member><member><name>faultString</name><value><string>refused</string></value></member></struct></value></fault></methodResponse>
}
