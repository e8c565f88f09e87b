package awsquery

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Op runs one action on decoded parameters and returns its result struct
// (nil for an empty result) or an error (*Error for AWS errors; anything
// else is answered as InternalFailure).
type Op func(ctx context.Context, form url.Values) (any, error)

// Operation adapts a typed function to an Op: the form is decoded into a
// new In, and a nil *Out becomes an empty result element.
func Operation[In, Out any](fn func(context.Context, *In) (*Out, error)) Op {
	return func(ctx context.Context, form url.Values) (any, error) {
		in := new(In)
		if err := Decode(form, in); err != nil {
			return nil, err
		}
		out, err := fn(ctx, in)
		if err != nil || out == nil {
			return nil, err
		}
		return out, nil
	}
}

// Service answers one Query-protocol API version.
type Service struct {
	// Namespace is the xmlns of responses, e.g.
	// http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/.
	Namespace string
	// Version is the API version requests must name, e.g. 2015-12-01.
	Version string
	// Ops by action name.
	Ops map[string]Op
	// OtherVersions explains versions that share the endpoint but are
	// not served (ELB classic's 2012-06-01), by version.
	OtherVersions map[string]string
	// MaxBody bounds the form body; 0 means DefaultMaxBody.
	MaxBody int64
}

// DefaultMaxBody bounds a Query request body. The largest ELBv2 request
// (a ModifyLoadBalancerAttributes or CreateRule with every member) is a
// few kilobytes.
const DefaultMaxBody = 1 << 20

type (
	ctxKey    struct{}
	actionKey struct{}
)

// Request returns the HTTP request an Op is serving (for its Host, to
// build URLs that reach the same endpoint), or nil outside a Service.
func Request(ctx context.Context) *http.Request {
	r, _ := ctx.Value(ctxKey{}).(*http.Request)
	return r
}

// Action returns the name of the action an Op is serving
// ("CreateListener"), or "" outside a Service.
func Action(ctx context.Context) string {
	a, _ := ctx.Value(actionKey{}).(string)
	return a
}

// NewRequestID returns a random UUID (version 4), the format of AWS
// request ids.
func NewRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ServeHTTP decodes the form, runs the action and writes the response.
// The request id is the response's X-Amzn-Requestid header when the
// caller (the endpoint) set one; otherwise a new one is set.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := w.Header().Get(RequestIDHeader)
	if id == "" {
		id = NewRequestID()
		w.Header().Set(RequestIDHeader, id)
	}
	out, err := s.serve(r)
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			ae = ErrInternalFailure.With("%v", err)
		}
		WriteError(w, s.Namespace, id, ae)
		return
	}
	writeXML(w, http.StatusOK, out.body(s.Namespace, id))
}

type result struct {
	action string
	v      any
}

func (r result) body(ns, id string) []byte {
	b, err := MarshalResult(ns, r.action, id, r.v)
	if err != nil {
		return MarshalError(ns, id, ErrInternalFailure.With("encoding the %s result: %v", r.action, err))
	}
	return b
}

func (s *Service) serve(r *http.Request) (result, error) {
	form, err := ReadForm(r, s.MaxBody)
	if err != nil {
		return result{}, err
	}
	action := form.Get("Action")
	if action == "" {
		return result{}, ErrMissingAction.With("The request must contain the parameter Action.")
	}
	if v := form.Get("Version"); v != s.Version {
		if why, ok := s.OtherVersions[v]; ok {
			return result{}, ErrInvalidAction.With("%s", why)
		}
		if v == "" {
			return result{}, Errorf("MissingParameter", "The request must contain the parameter Version.")
		}
		return result{}, ErrInvalidAction.With("Version %q is not served here; this endpoint speaks version %s.", v, s.Version)
	}
	op, ok := s.Ops[action]
	if !ok {
		return result{}, ErrInvalidAction.With("Could not find operation %s for version %s.", action, s.Version)
	}
	v, err := op(context.WithValue(context.WithValue(r.Context(), ctxKey{}, r), actionKey{}, action), form)
	if err != nil {
		return result{}, err
	}
	return result{action, v}, nil
}

// ReadForm returns the request's parameters: the URL query merged with a
// form-encoded body of at most max bytes (0 means DefaultMaxBody). A
// larger body is a 413 RequestEntityTooLarge; a body that is not form
// encoding is a ValidationError.
func ReadForm(r *http.Request, max int64) (url.Values, error) {
	if max <= 0 {
		max = DefaultMaxBody
	}
	form, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, ErrValidation.With("the query string is not URL encoding: %v", err)
	}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return form, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if mt != "application/x-www-form-urlencoded" {
			return nil, ErrValidation.With("Content-Type %q is not application/x-www-form-urlencoded", ct)
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, ErrValidation.With("reading the body: %v", err)
	}
	if int64(len(body)) > max {
		return nil, &Error{Code: "RequestEntityTooLarge", Message: fmt.Sprintf("The request body exceeds %d bytes.", max), Status: http.StatusRequestEntityTooLarge}
	}
	bf, err := url.ParseQuery(strings.TrimSpace(string(body)))
	if err != nil {
		return nil, ErrValidation.With("the body is not URL encoding: %v", err)
	}
	for k, v := range bf {
		form[k] = append(form[k], v...)
	}
	return form, nil
}
