package apigateway

import (
	"encoding/json"
	"net/http"
	"strconv"

	"edge/internal/awsquery"
)

// Error is an API Gateway error: the model's shape name as Code (sent as
// x-amzn-ErrorType), its HTTP status and a message (sent as
// {"message":…}). Two Errors match under errors.Is when their codes are
// equal.
type Error = awsquery.Error

// The model's errors (botocore apigateway 2015-07-09) with their statuses.
var (
	ErrBadRequest         = &Error{Code: "BadRequestException", Status: http.StatusBadRequest}
	ErrConflict           = &Error{Code: "ConflictException", Status: http.StatusConflict}
	ErrLimitExceeded      = &Error{Code: "LimitExceededException", Status: http.StatusTooManyRequests}
	ErrNotFound           = &Error{Code: "NotFoundException", Status: http.StatusNotFound}
	ErrTooManyRequests    = &Error{Code: "TooManyRequestsException", Status: http.StatusTooManyRequests}
	ErrUnauthorized       = &Error{Code: "UnauthorizedException", Status: http.StatusUnauthorized}
	ErrServiceUnavailable = &Error{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable}
	// ErrUnknownOperation answers a method and path no operation has.
	ErrUnknownOperation = &Error{Code: "UnknownOperationException", Status: http.StatusNotFound}
	// ErrInternal is a failure of edge itself (disk, state).
	ErrInternal = &Error{Code: "InternalFailure", Status: http.StatusInternalServerError}
)

func badRequest(format string, args ...any) *Error { return ErrBadRequest.With(format, args...) }
func notFound(format string, args ...any) *Error   { return ErrNotFound.With(format, args...) }
func conflict(format string, args ...any) *Error   { return ErrConflict.With(format, args...) }

// writeError answers err the REST-JSON way: the status, the
// x-amzn-ErrorType header and {"message":"…"}.
func writeError(w http.ResponseWriter, err *Error) {
	body, _ := json.Marshal(map[string]string{"message": err.Message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", err.Code)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(err.HTTPStatus())
	w.Write(body)
}

// BindError is what an Applier returns when the data-plane listener could
// not bind; it is answered BadRequestException naming the address.
type BindError struct {
	Addr string
	Err  error
}

func (e *BindError) Error() string { return "cannot bind " + e.Addr + ": " + e.Err.Error() }
func (e *BindError) Unwrap() error { return e.Err }
