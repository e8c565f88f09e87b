// Package arn builds the Amazon Resource Names and resource ids edge
// shows: in log lines (the elb field, target_group_arn, chosen_cert_arn),
// in the admin API and in the AWS endpoint's answers. Every ARN and id
// edge makes comes from here, so the log, the admin API and the ELBv2 API
// name a resource the same way.
//
// Formats, from the ELBv2 and ACM API references' examples:
//
//	arn:aws:elasticloadbalancing:R:A:loadbalancer/app/NAME/ID
//	arn:aws:elasticloadbalancing:R:A:listener/app/LBNAME/LBID/ID
//	arn:aws:elasticloadbalancing:R:A:listener-rule/app/LBNAME/LBID/LID/ID
//	arn:aws:elasticloadbalancing:R:A:targetgroup/NAME/ID
//	arn:aws:elasticloadbalancing:R:A:truststore/NAME/ID
//	arn:aws:acm:R:A:certificate/UUID
//	arn:aws:apigateway:R::PATH
//
// IDs are 16 lowercase hex digits. Resources of edge.yaml get ids derived
// from their name (DerivedID), so they are stable across restarts;
// resources created through the API get random ones (RandomID), so a
// resource deleted and created again has a new ARN, as at AWS.
package arn

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Builder makes the ARNs of one region and account.
type Builder struct {
	elb, acm string // "arn:aws:elasticloadbalancing:R:A:", "arn:aws:acm:R:A:"
}

// New returns the builder for region (us-east-1) and account (12 digits).
func New(region, account string) Builder {
	return Builder{
		elb: "arn:aws:elasticloadbalancing:" + region + ":" + account + ":",
		acm: "arn:aws:acm:" + region + ":" + account + ":",
	}
}

// LoadBalancer is an Application Load Balancer's ARN; id is its 16 hex
// digits (LoadBalancerID for one of edge.yaml).
func (b Builder) LoadBalancer(name, id string) string {
	return b.elb + "loadbalancer/" + ELB(name, id)
}

// Listener is the ARN of a listener of the load balancer lbARN.
func (b Builder) Listener(lbARN, id string) string {
	return strings.Replace(lbARN, ":loadbalancer/", ":listener/", 1) + "/" + id
}

// Rule is the ARN of a rule of the listener listenerARN.
func (b Builder) Rule(listenerARN, id string) string {
	return strings.Replace(listenerARN, ":listener/", ":listener-rule/", 1) + "/" + id
}

// TargetGroup is a target group's ARN, logged as target_group_arn.
func (b Builder) TargetGroup(name, id string) string {
	return b.elb + "targetgroup/" + name + "/" + id
}

// TrustStore is a trust store's ARN.
func (b Builder) TrustStore(name, id string) string {
	return b.elb + "truststore/" + name + "/" + id
}

// Certificate is an ACM certificate's ARN, logged as chosen_cert_arn; id
// is CertificateID's UUID for a certificate edge read from a file.
func (b Builder) Certificate(id string) string { return b.acm + "certificate/" + id }

// APIGateway is an API Gateway resource's ARN (no account, as AWS
// writes them): arn:aws:apigateway:REGION::PATH, path starting with '/'.
func APIGateway(region, path string) string { return "arn:aws:apigateway:" + region + "::" + path }

// ELB is the elb field of the connection and access logs, app/NAME/ID,
// which is also the tail of the load balancer's ARN.
func ELB(name, id string) string { return "app/" + name + "/" + id }

// DerivedID returns 16 hex digits derived from seed (a SHA-256 prefix):
// the id of a resource of edge.yaml, the same on every start.
func DerivedID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:8])
}

// LoadBalancerID is the derived id of a load balancer of edge.yaml.
func LoadBalancerID(name string) string { return DerivedID(name) }

// TargetGroupID is the derived id of a target group of edge.yaml.
func TargetGroupID(name string) string { return DerivedID("targetgroup/" + name) }

// TrustStoreID is the derived id of a trust store of edge.yaml.
func TrustStoreID(name string) string { return DerivedID("truststore/" + name) }

// CertificateID names a certificate read from a file as ACM would, in
// UUID form, derived from its DER so it is stable across restarts.
func CertificateID(der []byte) string {
	sum := sha256.Sum256(der)
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// RandomID returns 16 random hex digits: the id of a resource created
// through the API.
func RandomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// LastID returns the final path element of an ARN (a trust store's or
// load balancer's id).
func LastID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// Kind returns the resource type of an ELBv2 ARN (truststore,
// loadbalancer, targetgroup, listener, listener-rule), "" if it is not one.
func Kind(arn string) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "elasticloadbalancing" {
		return ""
	}
	kind, _, _ := strings.Cut(p[5], "/")
	return kind
}
