// Package truststore loads ALB trust stores (a CA bundle plus CRLs) with
// ALB's rules and decides, for a presented client chain, the
// tls_verify_status ALB would log. The decision is a Verdict value, not an
// error string, so the TLS listener, `edge verify` and tests all compare the
// same Status.
package truststore

// Status is a tls_verify_status value of the ALB connection log. Its
// String method returns ALB's exact token.
type Status uint8

// The statuses ALB documents. Edge never emits ClientCertRejected (ALB has
// no custom validation hook) nor ClientCertIncompatible (not yet observed).
const (
	// StatusNone is "-": the connection was not TLS (HTTP listener).
	StatusNone Status = iota
	Success
	ClientCertMaxChainDepthExceeded
	ClientCertMaxSizeExceeded
	ClientCertCrlHit
	ClientCertCrlProcessingError
	ClientCertUntrusted
	ClientCertNotYetValid
	ClientCertExpired
	ClientCertTypeUnsupported
	ClientCertInvalid
	ClientCertPurposeInvalid
	ClientCertRejected
	UnmappedConnectionError
	ClientCertIncompatible
	numStatuses
)

var statusNames = [numStatuses]string{
	StatusNone:                      "-",
	Success:                         "Success",
	ClientCertMaxChainDepthExceeded: "Failed:ClientCertMaxChainDepthExceeded",
	ClientCertMaxSizeExceeded:       "Failed:ClientCertMaxSizeExceeded",
	ClientCertCrlHit:                "Failed:ClientCertCrlHit",
	ClientCertCrlProcessingError:    "Failed:ClientCertCrlProcessingError",
	ClientCertUntrusted:             "Failed:ClientCertUntrusted",
	ClientCertNotYetValid:           "Failed:ClientCertNotYetValid",
	ClientCertExpired:               "Failed:ClientCertExpired",
	ClientCertTypeUnsupported:       "Failed:ClientCertTypeUnsupported",
	ClientCertInvalid:               "Failed:ClientCertInvalid",
	ClientCertPurposeInvalid:        "Failed:ClientCertPurposeInvalid",
	ClientCertRejected:              "Failed:ClientCertRejected",
	UnmappedConnectionError:         "Failed:UnmappedConnectionError",
	ClientCertIncompatible:          "Failed:ClientCertIncompatible",
}

// String returns ALB's token for s, e.g. "Failed:ClientCertUntrusted".
func (s Status) String() string {
	if s < numStatuses {
		return statusNames[s]
	}
	return "Failed:UnmappedConnectionError"
}

// Statuses lists every status, for metrics that must pre-create labels.
func Statuses() []Status {
	out := make([]Status, 0, numStatuses)
	for s := Status(0); s < numStatuses; s++ {
		out = append(out, s)
	}
	return out
}
