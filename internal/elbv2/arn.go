package elbv2

import (
	awsarn "edge/internal/arn"
)

// ARNs and ids come from package arn (formats and id rules there), shared
// with the server's log lines and the admin API: a resource of edge.yaml
// has one ARN wherever it is shown.

type arns struct{ b awsarn.Builder }

func newARNs(region, account string) arns { return arns{awsarn.New(region, account)} }

// randomID returns 16 random hex digits.
func randomID() string { return awsarn.RandomID() }

// nameID returns 16 hex digits derived from s (arn.DerivedID).
func nameID(s string) string { return awsarn.DerivedID(s) }

func (a arns) trustStore(name, id string) string   { return a.b.TrustStore(name, id) }
func (a arns) loadBalancer(name, id string) string { return a.b.LoadBalancer(name, id) }
func (a arns) targetGroup(name, id string) string  { return a.b.TargetGroup(name, id) }

// listener builds a listener ARN under a load balancer ARN.
func (a arns) listener(lbArn, id string) string { return a.b.Listener(lbArn, id) }

// rule builds a rule ARN under a listener ARN.
func (a arns) rule(listenerArn, id string) string { return a.b.Rule(listenerArn, id) }

// lastID returns the final path element of an ARN (a trust store's id).
func lastID(arn string) string { return awsarn.LastID(arn) }

// arnKind returns the resource type of an ELBv2 ARN (truststore,
// loadbalancer, targetgroup, listener, listener-rule), "" if it is not one.
func arnKind(arn string) string { return awsarn.Kind(arn) }
