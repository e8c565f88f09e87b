package apigateway

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strconv"
	"strings"
	"time"

	"edge/internal/certfmt"
)

// reqContext is one request's $context: what request-parameter mappings
// and access-log templates read.
type reqContext struct {
	requestID         string
	extendedRequestID string
	start             time.Time
	sourceIP          string
	userAgent         string
	httpMethod        string
	path              string // the full request path, base path included
	resourcePath      string
	resourceID        string
	protocol          string
	stage             string
	apiID             string
	domainName        string
	deploymentID      string
	status            int
	responseLength    int
	responseLatency   time.Duration
	integration       struct {
		status  int
		latency time.Duration
		err     string
	}
	errMessage, errResponseType string
	leaf                        *x509.Certificate
	accountID                   string

	req        *http.Request
	pathParams map[string]string
	stageVars  map[string]string
}

// The $context.identity.clientCert.* formats. API Gateway documents them
// by example only (the Lambda proxy event sample: serialNumber
// "a1:a1:…", validity "May 28 12:30:02 2019 GMT"); edge renders:
//   - clientCertPem: the leaf as PEM (in a header: URL-encoded, since a
//     header cannot hold line breaks; in an access log: newlines as \n);
//   - subjectDN / issuerDN: RFC 4514 (CN first), as OpenSSL's RFC 2253
//     printing does;
//   - serialNumber: lowercase hex bytes joined by ':' (the sample's form);
//   - validity.notBefore/notAfter: OpenSSL's "%b %e %H:%M:%S %Y GMT".
//
// docs/api-gateway.md records these choices.
const opensslTime = "Jan _2 15:04:05 2006 GMT"

func clientCertPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func colonSerial(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	if len(b) == 0 {
		return "00"
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(b)*3)
	for i, x := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hex[x>>4], hex[x&0xf])
	}
	return string(out)
}

// clfTime is $context.requestTime: CLF (dd/MMM/yyyy:HH:mm:ss +0000).
const clfTime = "02/Jan/2006:15:04:05 -0700"

// value returns $context.<name> ("" when it has no value).
func (c *reqContext) value(name string) string {
	if rest, ok := strings.CutPrefix(name, "identity.clientCert."); ok {
		if c.leaf == nil {
			return ""
		}
		switch rest {
		case "clientCertPem":
			return clientCertPEM(c.leaf)
		case "subjectDN":
			return certfmt.DN(c.leaf.RawSubject)
		case "issuerDN":
			return certfmt.DN(c.leaf.RawIssuer)
		case "serialNumber":
			return colonSerial(c.leaf)
		case "validity.notBefore":
			return c.leaf.NotBefore.UTC().Format(opensslTime)
		case "validity.notAfter":
			return c.leaf.NotAfter.UTC().Format(opensslTime)
		}
		return ""
	}
	switch name {
	case "requestId":
		return c.requestID
	case "extendedRequestId":
		return c.extendedRequestID
	case "requestTime":
		return c.start.UTC().Format(clfTime)
	case "requestTimeEpoch":
		return strconv.FormatInt(c.start.UnixMilli(), 10)
	case "identity.sourceIp":
		return c.sourceIP
	case "identity.userAgent":
		return c.userAgent
	case "httpMethod":
		return c.httpMethod
	case "path":
		return c.path
	case "resourcePath":
		return c.resourcePath
	case "resourceId":
		return c.resourceID
	case "protocol":
		return c.protocol
	case "stage":
		return c.stage
	case "apiId":
		return c.apiID
	case "accountId":
		return c.accountID
	case "deploymentId":
		return c.deploymentID
	case "domainName":
		return c.domainName
	case "domainPrefix":
		p, _, _ := strings.Cut(c.domainName, ".")
		return p
	case "status":
		if c.status == 0 {
			return ""
		}
		return strconv.Itoa(c.status)
	case "responseLength":
		return strconv.Itoa(c.responseLength)
	case "responseLatency":
		return strconv.FormatInt(c.responseLatency.Milliseconds(), 10)
	case "integrationLatency", "integration.latency":
		if c.integration.status == 0 {
			return ""
		}
		return strconv.FormatInt(c.integration.latency.Milliseconds(), 10)
	case "integrationStatus", "integration.status":
		if c.integration.status == 0 {
			return ""
		}
		return strconv.Itoa(c.integration.status)
	case "integration.error", "integrationErrorMessage":
		return c.integration.err
	case "error.message":
		return c.errMessage
	case "error.messageString":
		if c.errMessage == "" {
			return ""
		}
		return strconv.Quote(c.errMessage)
	case "error.responseType":
		return c.errResponseType
	}
	return ""
}

// contextVariables are the $context variables edge knows (REST API access
// logging and data mapping references). The ones edge has no value for
// (authorizers, WAF, API keys, Cognito) render as "-" in access logs.
var contextVariables = map[string]bool{
	"accountId": true, "apiId": true, "awsEndpointRequestId": true, "deploymentId": true, "domainName": true, "domainPrefix": true,
	"error.message": true, "error.messageString": true, "error.responseType": true, "error.validationErrorString": true,
	"extendedRequestId": true, "httpMethod": true, "path": true, "protocol": true, "requestId": true,
	"requestTime": true, "requestTimeEpoch": true, "resourceId": true, "resourcePath": true, "stage": true, "status": true,
	"responseLength": true, "responseLatency": true, "integrationLatency": true, "integrationStatus": true, "integrationErrorMessage": true,
	"integration.error": true, "integration.integrationStatus": true, "integration.latency": true, "integration.requestId": true, "integration.status": true,
	"identity.accountId": true, "identity.apiKey": true, "identity.apiKeyId": true, "identity.caller": true,
	"identity.cognitoAuthenticationProvider": true, "identity.cognitoAuthenticationType": true, "identity.cognitoIdentityId": true,
	"identity.cognitoIdentityPoolId": true, "identity.principalOrgId": true, "identity.sourceIp": true, "identity.user": true,
	"identity.userAgent": true, "identity.userArn": true, "identity.vpceId": true,
	"identity.clientCert.clientCertPem": true, "identity.clientCert.subjectDN": true, "identity.clientCert.issuerDN": true,
	"identity.clientCert.serialNumber": true, "identity.clientCert.validity.notBefore": true, "identity.clientCert.validity.notAfter": true,
	"authorizer.principalId": true, "authorizer.error": true, "authorizer.integrationLatency": true, "authorizer.latency": true,
	"authorizer.requestId": true, "authorizer.status": true, "authenticate.error": true, "authenticate.latency": true, "authenticate.status": true,
	"authorize.error": true, "authorize.latency": true, "authorize.status": true, "waf.error": true, "waf.latency": true, "waf.status": true,
	"waf.errorResponseCode": true, "webaclArn": true, "xrayTraceId": true, "wafResponseCode": true, "isCanaryRequest": true,
}

// contextVariableNames lists the known names, for suggestions.
func contextVariableNames() []string {
	out := make([]string, 0, len(contextVariables))
	for k, ok := range contextVariables {
		if ok {
			out = append(out, k)
		}
	}
	return out
}
