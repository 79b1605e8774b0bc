package jsonrpc

import "errors"

// ErrParams is wrapped by the errors of JSON params the dialect cannot
// carry (answered -32602): a float, null, a number over 64 bits, a data
// URI that is not a torrent where one is required.
var ErrParams = errors.New("invalid parameters")
