package controlplane

import (
	"encoding/xml"
	"net/http"

	"edge/internal/awsquery"
)

// externalS3 answers S3 requests when edge reads S3 from an external
// server (s3.endpoint): the endpoint does not serve S3 then, and the error
// says where to send them.
func externalS3(endpoint string) http.Handler {
	msg := "edge reads S3 from the external server " + endpoint + " (s3.endpoint in edge.yaml); this endpoint does not serve S3: send S3 requests (aws s3, s3api, the SDK's S3 client) to " + endpoint + "."
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := w.Header().Get(awsquery.RequestIDHeader)
		body, _ := xml.Marshal(struct {
			XMLName   xml.Name `xml:"Error"`
			Code      string
			Message   string
			Resource  string
			RequestId string
		}{Code: "NotImplemented", Message: msg, Resource: r.URL.Path, RequestId: id})
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotImplemented)
		w.Write([]byte(xml.Header))
		w.Write(body)
	})
}
