// Package route turns a listener's rules and actions into an http.Handler:
// ALB's conditions and their matching rules, rule priority, and the
// fixed-response and redirect actions (forward lives in package proxy).
package route

import (
	"net/http"
	"strconv"

	"edge/internal/proxy"
	"edge/internal/reqinfo"
)

// FixedResponse answers every request with the same status, content type
// and body, as ALB's fixed-response action does. Build it with
// NewFixedResponse, which prepares the shared header values.
type FixedResponse struct {
	Status int
	// ContentType is sent as given; empty sends no Content-Type (Go's
	// content sniffing is switched off).
	ContentType string
	Body        []byte

	// Header values built once: net/http only reads them, so every
	// response can share them (no allocation per request).
	server, ctype, length []string
	headerBytes           int64
}

var _ http.Handler = (*FixedResponse)(nil)

// NewFixedResponse builds the handler from ALB's config strings; status
// must already be validated (^(2|4|5)\d\d$).
func NewFixedResponse(status, contentType, body string) (*FixedResponse, error) {
	code, err := strconv.Atoi(status)
	if err != nil {
		return nil, err
	}
	f := &FixedResponse{Status: code, ContentType: contentType, Body: []byte(body)}
	f.server, f.length = []string{proxy.ServerHeader}, []string{strconv.Itoa(len(f.Body))}
	if f.ContentType != "" {
		f.ctype = []string{f.ContentType}
	}
	// As the access log counts headers: status line, fields, blank line.
	n := len("HTTP/1.1 200 OK\r\n") + len("Server: \r\n") + len(proxy.ServerHeader) + len("Content-Length: \r\n") + len(f.length[0]) + 2
	if f.ctype != nil {
		n += len("Content-Type: \r\n") + len(f.ContentType)
	}
	f.headerBytes = int64(n)
	return f, nil
}

func (f *FixedResponse) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	reqinfo.Of(w, r).HeaderBytes = f.headerBytes
	h["Server"] = f.server
	h["Content-Type"] = f.ctype // nil: no sniffing, ALB sends none
	h["Content-Length"] = f.length
	w.WriteHeader(f.Status)
	if r.Method != http.MethodHead {
		w.Write(f.Body)
	}
}
