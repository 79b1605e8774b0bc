package floodtest

import (
	"fmt"
	"net/http"
)

// APIError is a reply from Flood's HTTP API with a status other than 2xx.
// Flood answers a failed rTorrent call with 500 and a JSON body holding the
// error's code and message; a bad request body gets 422, a destination
// outside --allowedpath 403.
type APIError struct {
	Method string // HTTP method of the request
	Path   string // path of the request, below BaseURL
	Status int    // HTTP status code
	Body   string // the reply body, cut to maxErrorBody bytes
}

// maxErrorBody bounds APIError.Body.
const maxErrorBody = 4 << 10

func (e *APIError) Error() string {
	return fmt.Sprintf("flood: %s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Body)
}
