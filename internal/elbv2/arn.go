package elbv2

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// ARN formats (reference §6.1, AWS documentation examples):
//
//	arn:aws:elasticloadbalancing:R:A:truststore/NAME/ID
//	arn:aws:elasticloadbalancing:R:A:loadbalancer/app/NAME/ID
//	arn:aws:elasticloadbalancing:R:A:targetgroup/NAME/ID
//	arn:aws:elasticloadbalancing:R:A:listener/app/LBNAME/LBID/ID
//	arn:aws:elasticloadbalancing:R:A:listener-rule/app/LBNAME/LBID/LID/ID
//
// IDs are 16 hex digits: random for API resources (delete and recreate
// gives a new ARN, as at AWS), derived from the name for file-layer
// resources so they are stable across restarts.

type arns struct{ prefix string }

func newARNs(region, account string) arns {
	return arns{prefix: "arn:aws:elasticloadbalancing:" + region + ":" + account + ":"}
}

// randomID returns 16 random hex digits.
func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// nameID returns 16 hex digits derived from kind and name, as
// server.ELBID and proxy.TargetGroupARN derive theirs (sha256 prefix).
func nameID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func (a arns) trustStore(name, id string) string { return a.prefix + "truststore/" + name + "/" + id }
func (a arns) loadBalancer(name, id string) string {
	return a.prefix + "loadbalancer/app/" + name + "/" + id
}
func (a arns) targetGroup(name, id string) string { return a.prefix + "targetgroup/" + name + "/" + id }

// listener builds a listener ARN under a load balancer ARN.
func (a arns) listener(lbArn, id string) string {
	return strings.Replace(lbArn, ":loadbalancer/", ":listener/", 1) + "/" + id
}

// rule builds a rule ARN under a listener ARN.
func (a arns) rule(listenerArn, id string) string {
	return strings.Replace(listenerArn, ":listener/", ":listener-rule/", 1) + "/" + id
}

// lastID returns the final path element of an ARN (a trust store's id).
func lastID(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// arnKind returns the resource type of an ELBv2 ARN (truststore,
// loadbalancer, targetgroup, listener, listener-rule), "" if it is not one.
func arnKind(arn string) string {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "elasticloadbalancing" {
		return ""
	}
	kind, _, _ := strings.Cut(p[5], "/")
	return kind
}
