// Package apigateway emulates the parts of Amazon API Gateway (REST APIs,
// apigateway 2015-07-09) that a mutual-TLS custom domain needs, offline:
//
//   - the control plane: REST-JSON handlers for domain names (with
//     mutualTlsAuthentication read from an S3 object version and pinned),
//     base path mappings, and the REST API subset that builds a proxy API in
//     front of an HTTP target (rest APIs, resources, methods, integrations,
//     deployments, stages, tags), mounted as the APIGateway service of
//     internal/awsapi's endpoint (Service.Handler);
//   - its persistence in a state directory (apigateway.json beside
//     ELBv2's state.json, sharing blobs/sha256);
//   - the YAML form (Config, the api_gateway: block);
//   - the data plane (Server): one HTTPS listener serving every custom domain
//     by SNI with API Gateway's mTLS semantics (no client certificate: the
//     connection is reset; a certificate that fails verification: HTTP 403
//     after the handshake with the execution-log reason), base path mapping →
//     stage → resource/method → HTTP_PROXY/HTTP/MOCK integration, the
//     $context.identity.clientCert.* request-parameter mappings, access logs
//     in the $context template format, and the default execute-api endpoint
//     that bypasses mTLS unless disableExecuteApiEndpoint is set;
//   - RunDemo, the walkthrough replayed offline.
//
// API Gateway's truststore rules differ from ALB's (internal/truststore):
// the whole chain up to a root must be in the truststore (client-sent
// intermediates are ignored), at most four CA certificates above the leaf,
// RSA ≥ 2048 or ECDSA P-256/P-384 with SHA-256 or stronger, no revocation
// checking. Sources: aws-control-plane reference §3.2, §4.4, §7.4 and the
// AWS API Gateway developer guide; where AWS is silent the choice is
// written in docs/api-gateway.md.
package apigateway
