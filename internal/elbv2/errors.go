package elbv2

import (
	"errors"
	"fmt"
	"net/http"
	"syscall"

	"edge/internal/awsquery"
)

// Error is an ELBv2 error: the model's error code (not the shape name:
// ALPNPolicyNotFound for ALPNPolicyNotSupportedException), its HTTP status
// and a message. Match with errors.Is against the sentinels below.
type Error = awsquery.Error

func code(c, msg string) *Error { return &Error{Code: c, Message: msg} }

// The model's errors (botocore elbv2 2015-12-01 service-2.json), with the
// model's documentation sentence as message where it has one.
var (
	ErrALPNPolicyNotFound                       = code("ALPNPolicyNotFound", "The specified ALPN policy is not supported.")
	ErrCaCertificatesBundleNotFound             = code("CaCertificatesBundleNotFound", "The specified ca certificate bundle does not exist.")
	ErrCertificateNotFound                      = code("CertificateNotFound", "The specified certificate does not exist.")
	ErrDuplicateListener                        = code("DuplicateListener", "A listener with the specified port already exists.")
	ErrDuplicateLoadBalancerName                = code("DuplicateLoadBalancerName", "A load balancer with the specified name already exists.")
	ErrDuplicateTagKeys                         = code("DuplicateTagKeys", "A tag key was specified more than once.")
	ErrDuplicateTargetGroupName                 = code("DuplicateTargetGroupName", "A target group with the specified name already exists.")
	ErrDuplicateTrustStoreName                  = code("DuplicateTrustStoreName", "A trust store with the specified name already exists.")
	ErrHealthUnavailable                        = &Error{Code: "HealthUnavailable", Message: "The health of the specified targets could not be retrieved due to an internal error.", Status: http.StatusInternalServerError}
	ErrIncompatibleProtocols                    = code("IncompatibleProtocols", "The specified configuration is not valid with this protocol.")
	ErrInvalidCaCertificatesBundle              = code("InvalidCaCertificatesBundle", "The specified ca certificate bundle is in an invalid format, or corrupt.")
	ErrInvalidConfigurationRequest              = code("InvalidConfigurationRequest", "The requested configuration is not valid.")
	ErrInvalidLoadBalancerAction                = code("InvalidLoadBalancerAction", "The requested action is not valid.")
	ErrInvalidRevocationContent                 = code("InvalidRevocationContent", "The provided revocation file is an invalid format, or uses an incorrect algorithm.")
	ErrInvalidScheme                            = code("InvalidScheme", "The requested scheme is not valid.")
	ErrInvalidSecurityGroup                     = code("InvalidSecurityGroup", "The specified security group does not exist.")
	ErrInvalidSubnet                            = code("InvalidSubnet", "The specified subnet is out of available addresses.")
	ErrInvalidTarget                            = code("InvalidTarget", "The specified target does not exist, is not in the same VPC as the target group, or has an unsupported instance type.")
	ErrListenerNotFound                         = code("ListenerNotFound", "The specified listener does not exist.")
	ErrLoadBalancerNotFound                     = code("LoadBalancerNotFound", "The specified load balancer does not exist.")
	ErrOperationNotPermitted                    = code("OperationNotPermitted", "This operation is not allowed.")
	ErrPriorityInUse                            = code("PriorityInUse", "The specified priority is in use.")
	ErrResourceInUse                            = code("ResourceInUse", "A specified resource is in use.")
	ErrResourceNotFound                         = code("ResourceNotFound", "The specified resource does not exist.")
	ErrRevocationContentNotFound                = code("RevocationContentNotFound", "The specified revocation file does not exist.")
	ErrRevocationIdNotFound                     = code("RevocationIdNotFound", "The specified revocation ID does not exist.")
	ErrRuleNotFound                             = code("RuleNotFound", "The specified rule does not exist.")
	ErrSSLPolicyNotFound                        = code("SSLPolicyNotFound", "The specified SSL policy does not exist.")
	ErrSubnetNotFound                           = code("SubnetNotFound", "The specified subnet does not exist.")
	ErrTargetGroupAssociationLimit              = code("TargetGroupAssociationLimit", "You've reached the limit on the number of load balancers per target group.")
	ErrTargetGroupNotFound                      = code("TargetGroupNotFound", "The specified target group does not exist.")
	ErrTooManyActions                           = code("TooManyActions", "You've reached the limit on the number of actions per rule.")
	ErrTooManyCertificates                      = code("TooManyCertificates", "You've reached the limit on the number of certificates per load balancer.")
	ErrTooManyListeners                         = code("TooManyListeners", "You've reached the limit on the number of listeners per load balancer.")
	ErrTooManyLoadBalancers                     = code("TooManyLoadBalancers", "You've reached the limit on the number of load balancers for your Amazon Web Services account.")
	ErrTooManyRegistrationsForTargetId          = code("TooManyRegistrationsForTargetId", "You've reached the limit on the number of times a target can be registered with a load balancer.")
	ErrTooManyRules                             = code("TooManyRules", "You've reached the limit on the number of rules per load balancer.")
	ErrTooManyTags                              = code("TooManyTags", "You've reached the limit on the number of tags for this resource.")
	ErrTooManyTargetGroups                      = code("TooManyTargetGroups", "You've reached the limit on the number of target groups for your Amazon Web Services account.")
	ErrTooManyTargets                           = code("TooManyTargets", "You've reached the limit on the number of targets.")
	ErrTooManyTrustStoreRevocationEntries       = code("TooManyTrustStoreRevocationEntries", "The specified trust store has too many revocation entries.")
	ErrTooManyTrustStores                       = code("TooManyTrustStores", "You've reached the limit on the number of trust stores for your Amazon Web Services account.")
	ErrTooManyUniqueTargetGroupsPerLoadBalancer = code("TooManyUniqueTargetGroupsPerLoadBalancer", "You've reached the limit on the number of unique target groups per load balancer across all listeners.")
	ErrTrustStoreAssociationNotFound            = code("AssociationNotFound", "The specified association does not exist.")
	ErrTrustStoreInUse                          = code("TrustStoreInUse", "The specified trust store is currently in use.")
	ErrTrustStoreNotFound                       = code("TrustStoreNotFound", "The specified trust store does not exist.")
	ErrTrustStoreNotReady                       = code("TrustStoreNotReady", "The specified trust store is not active.")
	ErrUnsupportedProtocol                      = code("UnsupportedProtocol", "The specified protocol is not supported.")
	ErrDeleteAssociationSameAccount             = code("DeleteAssociationSameAccount", "The specified association can't be within the same account.")
)

// validation returns AWS's ValidationError for member.
func validation(value *string, member, constraint string) *Error {
	return awsquery.ValidationError(value, member, constraint)
}

func strp(s string) *string { return &s }

// BindError is what an Applier returns when a listener of the candidate
// state could not bind its address: it is answered DuplicateListener,
// naming the address and, when known, who holds it.
type BindError struct {
	// Addr is host:port.
	Addr string
	// Owner describes who holds the address, "" when unknown.
	Owner string
	Err   error
}

func (e *BindError) Error() string {
	s := "cannot bind " + e.Addr
	if e.Owner != "" {
		s += " (in use by " + e.Owner + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *BindError) Unwrap() error { return e.Err }

// BuildError is what an Applier returns when the configuration derived from
// the candidate state does not build: it is answered
// InvalidConfigurationRequest with the problems as the message.
type BuildError struct {
	Err error
}

func (e *BuildError) Error() string { return e.Err.Error() }
func (e *BuildError) Unwrap() error { return e.Err }

// applyError maps an Applier's error to the AWS error the call answers.
// *Error values pass through; a *BindError or an EADDRINUSE is
// DuplicateListener; anything else is InvalidConfigurationRequest.
func applyError(err error) *Error {
	var ae *Error
	var be *BindError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &be), errors.Is(err, syscall.EADDRINUSE):
		return ErrDuplicateListener.With("%v", err)
	}
	return ErrInvalidConfigurationRequest.With("%s", fmt.Sprint(err))
}
