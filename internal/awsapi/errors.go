package awsapi

import (
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"edge/internal/awsquery"
)

// writeError answers err in the protocol of service: Query XML for ELBv2
// and STS, S3's REST-XML <Error>, API Gateway's REST-JSON
// (x-amzn-ErrorType + {"message"}), ACM's JSON 1.1 {"__type"}; for a
// service edge does not know, in the protocol family the request's shape
// shows (writeForeignError).
func writeError(w http.ResponseWriter, r *http.Request, service, requestID string, err *awsquery.Error) {
	status := err.HTTPStatus()
	var body []byte
	switch service {
	case ServiceS3, ServiceEdge:
		w.Header().Set("Content-Type", "application/xml")
		body, _ = xml.Marshal(struct {
			XMLName   xml.Name `xml:"Error"`
			Code      string
			Message   string
			RequestID string `xml:"RequestId"`
		}{Code: err.Code, Message: err.Message, RequestID: requestID})
		body = append([]byte(xml.Header), body...)
	case ServiceAPIGateway:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", err.Code)
		body, _ = json.Marshal(map[string]string{"message": err.Message})
	case ServiceACM:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		body, _ = json.Marshal(map[string]string{"__type": err.Code, "message": err.Message})
	case ServiceELB, ServiceSTS:
		ns := namespaceELBv2
		if service == ServiceSTS {
			ns = namespaceSTS
		}
		awsquery.WriteError(w, ns, requestID, err)
		return
	default:
		writeForeignError(w, r, service, requestID, err)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// notServed is the error for a service edge has no handler for.
func (e *Endpoint) notServed(service string) *awsquery.Error {
	switch service {
	case ServiceS3:
		return &awsquery.Error{Code: "NotImplemented", Message: "S3 is not served by this edge endpoint (no S3 store is configured).", Status: http.StatusNotImplemented}
	case ServiceAPIGateway:
		return &awsquery.Error{Code: "UnknownOperationException", Message: "API Gateway is not served by this edge endpoint yet.", Status: http.StatusNotFound}
	case ServiceACM:
		return awsquery.Errorf("UnknownOperationException", "ACM is not emulated by edge yet: a listener naming an ACM certificate ARN edge does not know gets a dev-CA certificate.")
	case ServiceELB, ServiceSTS:
		return awsquery.ErrInvalidAction.With("The %s service is not served by this edge endpoint.", service)
	}
	name := service
	if cli, ok := cliNames[service]; ok {
		name = fmt.Sprintf("%s (%s)", service, cli)
	}
	return awsquery.ErrInvalidAction.With("edge does not emulate the %q service; it serves %s.", name, e.served())
}

// cliNames are the aws CLI commands of services whose signing name
// differs, so that the error names what the user typed.
var cliNames = map[string]string{
	"monitoring":       "aws cloudwatch",
	"email":            "aws ses",
	"states":           "aws stepfunctions",
	"execute-api":      "aws apigatewaymanagementapi",
	"elasticmapreduce": "aws emr",
	"es":               "aws opensearch",
}

// served lists the services this endpoint has handlers for, as their
// credential scopes name them: "s3, elasticloadbalancing (ELBv2) and sts".
func (e *Endpoint) served() string {
	var names []string
	for _, s := range []struct {
		h    http.Handler
		name string
	}{{e.svc.S3, "s3"}, {e.svc.ELBv2, "elasticloadbalancing (ELBv2)"}, {e.svc.STS, "sts"}, {e.svc.APIGateway, "apigateway"}, {e.svc.ACM, "acm"}} {
		if s.h != nil {
			names = append(names, s.name)
		}
	}
	switch len(names) {
	case 0:
		return "no service"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// Protocol families of AWS services, as far as an error needs them.
const (
	familyQuery    = iota // Query and EC2: form-encoded Action=…, XML errors
	familyJSON            // JSON 1.0/1.1: X-Amz-Target, {"__type","message"}
	familyCBOR            // Smithy RPC v2 CBOR (CloudWatch in recent SDKs)
	familyRESTXML         // REST-XML (Route 53, CloudFront)
	familyRESTJSON        // REST-JSON (Lambda and most REST services)
)

// restXMLServices are the signing names of the REST-XML services besides
// S3 (whose requests edge serves); every other REST service is REST-JSON.
var restXMLServices = map[string]bool{"route53": true, "cloudfront": true}

// familyOf tells a request's protocol family from its shape (the SDKs set
// these headers for every call of the family), so that an error for a
// service edge does not know is one the client parses.
func familyOf(r *http.Request, service string) int {
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor"):
		return familyCBOR
	case r.Header.Get("X-Amz-Target") != "", strings.HasPrefix(ct, "application/x-amz-json-"):
		return familyJSON
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"), r.URL.Query().Has("Action"):
		return familyQuery
	case restXMLServices[service]:
		return familyRESTXML
	}
	return familyRESTJSON
}

// writeForeignError answers err for a service edge does not know in the
// shape its protocol family's clients parse generically: the AWS CLI and
// the SDKs then print the code and message instead of the raw body. XML
// families get <ErrorResponse> without a namespace (no service's own);
// JSON and CBOR families get UnknownOperationException, the code JSON
// services answer an unknown operation with.
func writeForeignError(w http.ResponseWriter, r *http.Request, service, requestID string, err *awsquery.Error) {
	status := err.HTTPStatus()
	code := err.Code
	if code == awsquery.ErrInvalidAction.Code {
		code = "UnknownOperationException"
	}
	var body []byte
	switch familyOf(r, service) {
	case familyQuery, familyRESTXML:
		awsquery.WriteError(w, "", requestID, err)
		return
	case familyCBOR:
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		body = cborStringMap("__type", code, "message", err.Message)
	case familyJSON:
		ct := r.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "application/x-amz-json-") {
			ct = "application/x-amz-json-1.1"
		}
		w.Header().Set("Content-Type", ct)
		body, _ = json.Marshal(map[string]string{"__type": code, "message": err.Message})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", code)
		body, _ = json.Marshal(map[string]string{"__type": code, "message": err.Message})
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// cborStringMap encodes a CBOR map (RFC 8949) of text-string keys and
// values, given as alternating arguments (at most 23 pairs).
func cborStringMap(kv ...string) []byte {
	b := []byte{0xa0 | byte(len(kv)/2)}
	for _, s := range kv {
		b = cborHead(b, 3, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// cborHead appends the head of a data item of major type major and
// argument n.
func cborHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}
