package awsquery

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an AWS error as the Query protocol returns it. Status 0 means
// 400. Two Errors match under errors.Is when their codes are equal, so a
// service can declare sentinels (var ErrX = &Error{Code: "X"}) and wrap or
// re-word them freely.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// HTTPStatus is the status the error is answered with.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Type is "Sender" for client errors and "Receiver" for server errors.
func (e *Error) Type() string {
	if e.HTTPStatus() >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// With returns a copy of e whose message is e's followed by the formatted
// detail: "The specified trust store does not exist. Detail…".
func (e *Error) With(format string, args ...any) *Error {
	c := *e
	d := fmt.Sprintf(format, args...)
	if c.Message == "" {
		c.Message = d
	} else if d != "" {
		c.Message += " " + d
	}
	return &c
}

// Errorf makes an Error with HTTP status 400.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Errors every Query service shares (AWS "Common Errors").
var (
	ErrValidation       = &Error{Code: "ValidationError"}
	ErrInvalidAction    = &Error{Code: "InvalidAction"}
	ErrMissingAction    = &Error{Code: "MissingAction"}
	ErrInternalFailure  = &Error{Code: "InternalFailure", Status: http.StatusInternalServerError}
	ErrInvalidParameter = &Error{Code: "InvalidParameterValue"}
)

// ValidationError is AWS's wording for a member that breaks its
// constraint: "1 validation error detected: Value 'x' at 'pageSize'
// failed to satisfy constraint: Member must have value less than or equal
// to 400". member is the wire name; it is reported lower-camel-cased, as
// AWS does.
func ValidationError(value *string, member, constraint string) *Error {
	v := "null"
	if value != nil {
		v = "'" + *value + "'"
	}
	return Errorf("ValidationError", "1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s", v, lowerFirst(member), constraint)
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}
