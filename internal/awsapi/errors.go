package awsapi

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"

	"edge/internal/awsquery"
)

// writeError answers err in the protocol of service: Query XML for ELBv2,
// STS and unknown services, S3's REST-XML <Error>, API Gateway's
// REST-JSON (x-amzn-ErrorType + {"message"}), ACM's JSON 1.1 {"__type"}.
func writeError(w http.ResponseWriter, service, requestID string, err *awsquery.Error) {
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
	default:
		ns := namespaceELBv2
		if service == ServiceSTS {
			ns = namespaceSTS
		}
		awsquery.WriteError(w, ns, requestID, err)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// notServed is the error for a service edge has no handler for.
func notServed(service string) *awsquery.Error {
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
	return awsquery.ErrInvalidAction.With("edge does not emulate the %q service; it serves s3, elasticloadbalancing (ELBv2), sts, apigateway and acm.", service)
}
