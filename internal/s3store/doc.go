// Package s3store is edge's embedded S3-compatible store and its readers
// of S3 objects.
//
// New opens the store: in a directory (edge's <state-dir>/s3, persistent
// across restarts) or in memory. Its Handler speaks S3's REST-XML protocol
// as the AWS CLI, boto3, the Go SDK and Terraform send it — buckets,
// objects, versioning (never enabled → Enabled → Suspended, version ids,
// delete markers), list, head, copy, multipart uploads and aws-chunked
// bodies with trailer checksums — and the Store itself is an
// objects.Source for edge's control plane. NewExternal reads from an
// existing S3-compatible server instead.
//
// The HTTP protocol is github.com/rclone/gofakes3 (pinned at v0.0.12,
// used only in fakes3.go); buckets, versions and the on-disk layout are
// edge's own (backend.go, disk.go), as the library's memory backend loses
// versions when versioning is suspended and makes 66-character version
// ids with '/'. docs/s3.md describes the layout and what is emulated.
package s3store
