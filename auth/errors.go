package auth

import "errors"

// ErrTokenRequired is wrapped by CheckListener's error for a listener that
// is reachable from other hosts while no token is set.
var ErrTokenRequired = errors.New("auth: a token is required on a listener that is not loopback or a unix socket")
