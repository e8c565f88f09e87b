package elbv2_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"edge/internal/awsquery"
	"edge/internal/elbv2"
)

func is[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

// TestErrorCodesMapToSDKTypes answers each of the service's error codes
// (as the service encodes them) to the aws-sdk-go-v2 operation that models
// it, and checks the SDK raises the typed exception: the code must be the
// model's error code, not the shape name.
func TestErrorCodesMapToSDKTypes(t *testing.T) {
	var answer *elbv2.Error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		awsquery.WriteError(w, elbv2.Namespace, "rid", answer)
	}))
	defer srv.Close()
	c := elb.New(elb.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{}, Credentials: aws.AnonymousCredentials{}})
	s := aws.String("x")
	createListener := func() error {
		_, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: s, DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward}}})
		return err
	}
	createLB := func() error { _, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: s}); return err }
	createTS := func() error {
		_, err := c.CreateTrustStore(ctx, &elb.CreateTrustStoreInput{Name: s, CaCertificatesBundleS3Bucket: s, CaCertificatesBundleS3Key: s})
		return err
	}
	addRev := func() error {
		_, err := c.AddTrustStoreRevocations(ctx, &elb.AddTrustStoreRevocationsInput{TrustStoreArn: s})
		return err
	}
	register := func() error {
		_, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: s, Targets: []types.TargetDescription{{Id: s}}})
		return err
	}
	addTags := func() error {
		_, err := c.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{"x"}, Tags: []types.Tag{{Key: s}}})
		return err
	}
	createRule := func() error {
		_, err := c.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: s, Priority: aws.Int32(1), Conditions: []types.RuleCondition{}, Actions: []types.Action{{Type: types.ActionTypeEnumForward}}})
		return err
	}
	createTG := func() error { _, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: s}); return err }
	shared := func() error {
		_, err := c.DeleteSharedTrustStoreAssociation(ctx, &elb.DeleteSharedTrustStoreAssociationInput{TrustStoreArn: s, ResourceArn: s})
		return err
	}
	for _, tc := range []struct {
		err  *elbv2.Error
		call func() error
		is   func(error) bool
	}{
		{elbv2.ErrALPNPolicyNotFound, createListener, is[*types.ALPNPolicyNotSupportedException]},
		{elbv2.ErrCaCertificatesBundleNotFound, createTS, is[*types.CaCertificatesBundleNotFoundException]},
		{elbv2.ErrCertificateNotFound, createListener, is[*types.CertificateNotFoundException]},
		{elbv2.ErrDuplicateListener, createListener, is[*types.DuplicateListenerException]},
		{elbv2.ErrDuplicateLoadBalancerName, createLB, is[*types.DuplicateLoadBalancerNameException]},
		{elbv2.ErrDuplicateTagKeys, addTags, is[*types.DuplicateTagKeysException]},
		{elbv2.ErrDuplicateTargetGroupName, createTG, is[*types.DuplicateTargetGroupNameException]},
		{elbv2.ErrDuplicateTrustStoreName, createTS, is[*types.DuplicateTrustStoreNameException]},
		{elbv2.ErrHealthUnavailable, func() error {
			_, err := c.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: s})
			return err
		}, is[*types.HealthUnavailableException]},
		{elbv2.ErrIncompatibleProtocols, createListener, is[*types.IncompatibleProtocolsException]},
		{elbv2.ErrInvalidCaCertificatesBundle, createTS, is[*types.InvalidCaCertificatesBundleException]},
		{elbv2.ErrInvalidConfigurationRequest, createListener, is[*types.InvalidConfigurationRequestException]},
		{elbv2.ErrInvalidLoadBalancerAction, createListener, is[*types.InvalidLoadBalancerActionException]},
		{elbv2.ErrInvalidRevocationContent, addRev, is[*types.InvalidRevocationContentException]},
		{elbv2.ErrInvalidScheme, createLB, is[*types.InvalidSchemeException]},
		{elbv2.ErrInvalidSecurityGroup, createLB, is[*types.InvalidSecurityGroupException]},
		{elbv2.ErrInvalidSubnet, createLB, is[*types.InvalidSubnetException]},
		{elbv2.ErrInvalidTarget, register, is[*types.InvalidTargetException]},
		{elbv2.ErrListenerNotFound, func() error { _, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{}); return err }, is[*types.ListenerNotFoundException]},
		{elbv2.ErrLoadBalancerNotFound, func() error { _, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); return err }, is[*types.LoadBalancerNotFoundException]},
		{elbv2.ErrOperationNotPermitted, func() error { _, err := c.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: s}); return err }, is[*types.OperationNotPermittedException]},
		{elbv2.ErrPriorityInUse, createRule, is[*types.PriorityInUseException]},
		{elbv2.ErrResourceInUse, func() error {
			_, err := c.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: s})
			return err
		}, is[*types.ResourceInUseException]},
		{elbv2.ErrResourceNotFound, func() error {
			_, err := c.GetResourcePolicy(ctx, &elb.GetResourcePolicyInput{ResourceArn: s})
			return err
		}, is[*types.ResourceNotFoundException]},
		{elbv2.ErrRevocationContentNotFound, addRev, is[*types.RevocationContentNotFoundException]},
		{elbv2.ErrRevocationIdNotFound, func() error {
			_, err := c.DescribeTrustStoreRevocations(ctx, &elb.DescribeTrustStoreRevocationsInput{TrustStoreArn: s})
			return err
		}, is[*types.RevocationIdNotFoundException]},
		{elbv2.ErrRuleNotFound, func() error { _, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{}); return err }, is[*types.RuleNotFoundException]},
		{elbv2.ErrSSLPolicyNotFound, func() error { _, err := c.DescribeSSLPolicies(ctx, &elb.DescribeSSLPoliciesInput{}); return err }, is[*types.SSLPolicyNotFoundException]},
		{elbv2.ErrSubnetNotFound, createLB, is[*types.SubnetNotFoundException]},
		{elbv2.ErrTargetGroupAssociationLimit, createListener, is[*types.TargetGroupAssociationLimitException]},
		{elbv2.ErrTargetGroupNotFound, func() error { _, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{}); return err }, is[*types.TargetGroupNotFoundException]},
		{elbv2.ErrTooManyActions, createListener, is[*types.TooManyActionsException]},
		{elbv2.ErrTooManyCertificates, func() error {
			_, err := c.AddListenerCertificates(ctx, &elb.AddListenerCertificatesInput{ListenerArn: s, Certificates: []types.Certificate{}})
			return err
		}, is[*types.TooManyCertificatesException]},
		{elbv2.ErrTooManyListeners, createListener, is[*types.TooManyListenersException]},
		{elbv2.ErrTooManyLoadBalancers, createLB, is[*types.TooManyLoadBalancersException]},
		{elbv2.ErrTooManyRegistrationsForTargetId, register, is[*types.TooManyRegistrationsForTargetIdException]},
		{elbv2.ErrTooManyRules, createRule, is[*types.TooManyRulesException]},
		{elbv2.ErrTooManyTags, addTags, is[*types.TooManyTagsException]},
		{elbv2.ErrTooManyTargetGroups, createTG, is[*types.TooManyTargetGroupsException]},
		{elbv2.ErrTooManyTargets, register, is[*types.TooManyTargetsException]},
		{elbv2.ErrTooManyTrustStoreRevocationEntries, addRev, is[*types.TooManyTrustStoreRevocationEntriesException]},
		{elbv2.ErrTooManyTrustStores, createTS, is[*types.TooManyTrustStoresException]},
		{elbv2.ErrTooManyUniqueTargetGroupsPerLoadBalancer, createListener, is[*types.TooManyUniqueTargetGroupsPerLoadBalancerException]},
		{elbv2.ErrTrustStoreAssociationNotFound, shared, is[*types.TrustStoreAssociationNotFoundException]},
		{elbv2.ErrTrustStoreInUse, func() error {
			_, err := c.DeleteTrustStore(ctx, &elb.DeleteTrustStoreInput{TrustStoreArn: s})
			return err
		}, is[*types.TrustStoreInUseException]},
		{elbv2.ErrTrustStoreNotFound, func() error { _, err := c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{}); return err }, is[*types.TrustStoreNotFoundException]},
		{elbv2.ErrTrustStoreNotReady, createListener, is[*types.TrustStoreNotReadyException]},
		{elbv2.ErrUnsupportedProtocol, createListener, is[*types.UnsupportedProtocolException]},
		{elbv2.ErrDeleteAssociationSameAccount, shared, is[*types.DeleteAssociationSameAccountException]},
	} {
		answer = tc.err
		err := tc.call()
		if !tc.is(err) {
			t.Errorf("%s: the SDK returned %T %v", tc.err.Code, err, err)
			continue
		}
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorMessage() != tc.err.Message {
			t.Errorf("%s: message %q", tc.err.Code, ae.ErrorMessage())
		}
	}
}
