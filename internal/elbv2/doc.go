// Package elbv2 is edge's ELBv2 control plane (API version 2015-12-01,
// Query protocol): trust stores and revocations, load balancers, target
// groups and targets, listeners with mutual TLS, rules, tags, attributes,
// listener certificates, SSL policies and account limits, as the AWS CLI,
// boto3, aws-sdk-go-v2 and Terraform call them.
//
// Every mutating call is checked, applied to a copy of the State, made live
// through the injected Applier (derive the configuration with Derive,
// reload the server) and persisted by the Store before it answers; on any
// error nothing changes. Reads never wait for a mutation. Resources of the
// YAML file layer (Options.FileLayer) appear in every Describe with
// name-derived ARNs and are read-only, except trust store revocations.
//
// Wiring: New(Options{Objects, Applier, Store, FileLayer, Quotas}) gives a
// Service; mount Service.Handler() as the endpoint's ELBv2 handler and
// Service.ArtefactHandler() as its /_edge/ handler (internal/awsapi).
package elbv2
