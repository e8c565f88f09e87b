// Package awsquery is the AWS Query protocol as ELBv2 (2015-12-01) and STS
// (2011-06-15) speak it: form-encoded requests (POST body or GET query)
// decoded into Go structs, XML responses <OpResponse><OpResult>…</OpResult>
// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></OpResponse>,
// and <ErrorResponse> errors carrying the service model's error code.
//
// Wire facts (botocore service models and captures from the AWS CLI 1.45,
// aws-sdk-go-v2 and Terraform 5.100):
//   - keys are Parent.Child, lists Name.member.N (N from 1), maps
//     Name.entry.N.key / Name.entry.N.value; an empty list is sent as Name=;
//     parameter order differs between clients and never matters;
//   - the OpResult element is mandatory even for empty outputs (botocore
//     raises KeyError and the Go SDK "deserialization failed, EOF" without it);
//   - lists are encoded as <Name><member>…</member></Name>, timestamps as
//     ISO 8601 UTC with milliseconds (2026-11-30T01:00:00.000Z);
//   - errors are HTTP 400 unless the model says otherwise, with
//     <Type>Sender</Type> (Receiver for 5xx) and <Code> the model's
//     error code (TrustStoreNotFound, not TrustStoreNotFoundException).
//
// Struct fields are named by their xml tag (the part before any comma), or
// by the Go field name; embedded structs lend their members. A field tagged aws:"required" must be present: a
// missing one is a ValidationError worded as AWS words it.
package awsquery
