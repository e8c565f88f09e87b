package awsquery

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"time"
)

// List is a Query-protocol list: decoded from Name.member.N, encoded as
// <Name><member>…</member></Name>. Without omitempty an empty List is
// encoded as <Name></Name>, as AWS returns empty result lists.
type List[T any] []T

// MarshalXML writes each element as a <member>.
func (l List[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	member := xml.StartElement{Name: xml.Name{Local: "member"}}
	for i := range l {
		if err := e.EncodeElement(l[i], member); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// Time is a timestamp encoded as ISO 8601 UTC with milliseconds
// (2026-11-30T01:00:00.000Z), the Query protocol's timestamp format.
type Time struct{ time.Time }

// TimeFormat is the layout of Time on the wire.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// MarshalXML writes the timestamp.
func (t Time) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(t.UTC().Format(TimeFormat), start)
}

// ResponseWriter headers and content type.
const (
	// RequestIDHeader carries the request id on every response.
	RequestIDHeader = "X-Amzn-Requestid"
	contentType     = "text/xml"
)

// MarshalResult encodes a success response: <ActionResponse xmlns=ns>
// <ActionResult>result</ActionResult><ResponseMetadata><RequestId>id
// </RequestId></ResponseMetadata></ActionResponse>. result may be nil;
// the ActionResult element is written regardless.
func MarshalResult(ns, action, requestID string, result any) ([]byte, error) {
	var buf bytes.Buffer
	e := xml.NewEncoder(&buf)
	root := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: ns}}}
	if err := e.EncodeToken(root); err != nil {
		return nil, err
	}
	res := xml.StartElement{Name: xml.Name{Local: action + "Result"}}
	if result == nil {
		if err := e.EncodeToken(res); err != nil {
			return nil, err
		}
		if err := e.EncodeToken(res.End()); err != nil {
			return nil, err
		}
	} else if err := e.EncodeElement(result, res); err != nil {
		return nil, err
	}
	meta := struct {
		RequestID string `xml:"RequestId"`
	}{requestID}
	if err := e.EncodeElement(meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return nil, err
	}
	if err := e.EncodeToken(root.End()); err != nil {
		return nil, err
	}
	if err := e.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// MarshalError encodes an error response: <ErrorResponse xmlns=ns><Error>
// <Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>
// …</RequestId></ErrorResponse>, without the xmlns attribute when ns is "".
func MarshalError(ns, requestID string, err *Error) []byte {
	var r errorResponse
	r.Xmlns = ns
	r.Error.Type, r.Error.Code, r.Error.Message = err.Type(), err.Code, err.Message
	r.RequestID = requestID
	b, mErr := xml.Marshal(r)
	if mErr != nil { // strings only: cannot happen
		panic(mErr)
	}
	return b
}

// WriteError answers err with its HTTP status.
func WriteError(w http.ResponseWriter, ns, requestID string, err *Error) {
	writeXML(w, err.HTTPStatus(), MarshalError(ns, requestID, err))
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
