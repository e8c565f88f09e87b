// Package sts answers the one STS operation AWS clients need from edge:
// GetCallerIdentity (API version 2011-06-15, Query protocol), which
// Terraform's AWS provider calls once at start unless told to skip it.
package sts

import (
	"context"

	"edge/internal/awsapi"
	"edge/internal/awsquery"
)

// Namespace and Version of STS responses.
const (
	Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	Version   = "2011-06-15"
)

// UserName is the IAM user every caller is reported as.
const UserName = "edge"

// GetCallerIdentityResult is STS's GetCallerIdentityResponse member.
type GetCallerIdentityResult struct {
	UserId  string
	Account string
	Arn     string
}

// New returns the STS handler for account (12 digits). The caller is
// arn:aws:iam::ACCOUNT:user/edge; UserId is the request's access key id
// (AIDAEDGEEMULATOR when unsigned), as IAM users' ids are opaque anyway.
func New(account string) *awsquery.Service {
	return &awsquery.Service{
		Namespace: Namespace,
		Version:   Version,
		Ops: map[string]awsquery.Op{
			"GetCallerIdentity": awsquery.Operation(func(ctx context.Context, _ *struct{}) (*GetCallerIdentityResult, error) {
				id := awsapi.CallerFrom(ctx).AccessKeyID
				if id == "" {
					id = "AIDAEDGEEMULATOR"
				}
				return &GetCallerIdentityResult{UserId: id, Account: account, Arn: "arn:aws:iam::" + account + ":user/" + UserName}, nil
			}),
		},
	}
}
