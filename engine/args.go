package engine

import (
	"strconv"
	"strings"

	"github.com/rtgate/rtgate/xmlrpc"
)

// Argument conversions with rTorrent's faults: a command that wants a
// string fails with "Wrong object type." on anything else; one that wants
// a number takes an integer or a decimal string, and fails with "Not a
// value." on other text.

// stringArg returns the single string argument of args. Several
// arguments are a list to rTorrent, and so the wrong type.
func stringArg(args []xmlrpc.Value) (string, error) {
	if len(args) != 1 || args[0].Kind() != xmlrpc.String {
		return "", errWrongType
	}
	return args[0].String(), nil
}

// valueArg returns the single numeric argument of args.
func valueArg(args []xmlrpc.Value) (int64, error) {
	if len(args) != 1 {
		return 0, errWrongType
	}
	return toValue(args[0])
}

// toValue converts an integer, a boolean or a decimal string to a number.
func toValue(v xmlrpc.Value) (int64, error) {
	switch v.Kind() {
	case xmlrpc.Int, xmlrpc.Bool:
		return v.Int(), nil
	case xmlrpc.String:
		s := strings.TrimSpace(v.String())
		if s == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, errNotValue
		}
		return n, nil
	}
	return 0, errWrongType
}

// rateArg converts a throttle rate as rTorrent reads one: a number of
// bytes, or of kilobytes with a "k" suffix ("5k" is 5120). Rates below
// 1 KiB mean unlimited, as in rTorrent.
func rateArg(args []xmlrpc.Value) (int64, error) {
	if len(args) != 1 {
		return 0, errWrongType
	}
	v := args[0]
	var n int64
	if v.Kind() == xmlrpc.String {
		s := strings.TrimSpace(v.String())
		mult := int64(1)
		if strings.HasSuffix(s, "k") || strings.HasSuffix(s, "K") {
			s, mult = s[:len(s)-1], 1024
		}
		x, err := strconv.ParseInt(s, 10, 64)
		if s != "" && err != nil {
			return 0, errNotValue
		}
		n = x * mult
	} else {
		x, err := toValue(v)
		if err != nil {
			return 0, err
		}
		n = x
	}
	if n < 1024 {
		return 0, nil
	}
	return n, nil
}

// boolValue is rTorrent's 0/1 for a boolean field.
func boolValue(b bool) xmlrpc.Value {
	if b {
		return xmlrpc.NewInt(1)
	}
	return xmlrpc.NewInt(0)
}

var (
	zero     = xmlrpc.NewInt(0)
	one      = xmlrpc.NewInt(1)
	emptyStr = xmlrpc.NewString("")
)
