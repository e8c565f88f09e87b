// Package reqinfo carries one request's ALB facts through the handler
// chain: the connection it arrived on, and what routing and forwarding
// decided, for the access log.
package reqinfo

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"edge/internal/idle"
	"edge/internal/tlsterm"
)

// Request is the state of one request. The server creates it; the router
// and the forwarder fill in what they decide; the access log reads it when
// the response is done. It is used by one goroutine at a time.
type Request struct {
	// Conn is the connection's handshake result (trace id, TLS state).
	Conn *tlsterm.Result
	// ListenerPort is the port the listener is configured with.
	ListenerPort int
	// Mode is the listener's mutual-authentication mode.
	Mode tlsterm.Mode
	// BodyStatus is the status a request whose body failed gets instead
	// of a target error: 400 when the client sent a malformed body or went
	// away before finishing it, 408 when it stopped sending for the idle
	// timeout (ALB's troubleshooting guide, HTTP 400 and HTTP 408); 0 while
	// the body is fine. The body is read on the forwarder's goroutine,
	// hence atomic. (Placed beside Mode, it takes no extra space.)
	BodyStatus atomic.Int32
	// Received is when the request headers were read.
	Received time.Time

	// Priority of the matched rule; 0 for the default rule; NoRule when
	// the request was refused before the rules ran.
	Priority int
	// Actions executed, e.g. "forward".
	Actions string
	// RedirectURL is the Location of a redirect.
	RedirectURL string
	// TargetGroupARN and Target ("host:port") of a forward.
	TargetGroupARN string
	Target         string
	// TargetStatus is the target's status code; 0 when none.
	TargetStatus int
	// TraceID is the X-Amzn-Trace-Id the request carried onwards.
	TraceID string
	// Dispatched is when the request was sent to the target, Responded
	// when the target's response headers arrived; zero when not.
	Dispatched, Responded time.Time
	// ErrorReason is the access log's error_reason; empty for none.
	ErrorReason string
	// HeaderBytes is the size of the response's status line and headers
	// when the handler knows it (fixed responses); 0 has the server
	// count them.
	HeaderBytes int64
	// Progress is what the watchdog watches for this request: the
	// connection's (HTTP/1) or the stream's (HTTP/2); nil when nobody
	// watches (tests calling a handler directly).
	Progress *idle.Progress
}

// NoRule is the Priority of a request refused before any rule ran; the
// access log writes "-" for it, as ALB does.
const NoRule = -2

type key struct{}

// Ctx is a context carrying a Request. The server embeds it in its
// per-request allocation.
type Ctx struct {
	context.Context
	Req *Request
}

// Value answers for the Request and defers everything else.
func (c *Ctx) Value(k any) any {
	if _, ok := k.(key); ok {
		return c.Req
	}
	return c.Context.Value(k)
}

// Carrier is a ResponseWriter that carries its request's Request: the
// server hands one to every handler, so looking the Request up costs no
// context allocation per request.
type Carrier interface {
	ReqInfo() *Request
}

// Of returns the Request of a request being served: from w when it is a
// Carrier, else from r's context (requests the forwarder sends onwards).
func Of(w http.ResponseWriter, r *http.Request) *Request {
	if c, ok := w.(Carrier); ok {
		return c.ReqInfo()
	}
	return From(r.Context())
}

// With returns ctx carrying ri, for requests made on its behalf.
func With(ctx context.Context, ri *Request) context.Context {
	return &Ctx{Context: ctx, Req: ri}
}

// From returns the Request in ctx, or a throwaway one so handlers never
// need to check.
func From(ctx context.Context) *Request {
	if c, ok := ctx.(*Ctx); ok {
		return c.Req
	}
	if r, ok := ctx.Value(key{}).(*Request); ok {
		return r
	}
	return &Request{Conn: &tlsterm.Result{}}
}
