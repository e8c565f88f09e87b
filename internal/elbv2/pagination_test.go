package elbv2_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
)

func TestPagination(t *testing.T) {
	x := newH(t)
	x.s3.put("edge-trust", "bundle.pem", bundlePEM(x.root))
	for _, n := range []string{"a", "b", "c"} {
		x.createStore(n, "bundle.pem")
	}
	p := elb.NewDescribeTrustStoresPaginator(x.c, &elb.DescribeTrustStoresInput{PageSize: aws.Int32(1)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, ts := range out.TrustStores {
			names = append(names, *ts.Name)
		}
	}
	if pages != 3 || len(names) != 3 || names[2] != "c" {
		t.Errorf("%d pages: %v", pages, names)
	}
	out, err := x.c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{})
	if err != nil || len(out.TrustStores) != 3 || out.NextMarker != nil {
		t.Errorf("one page: NextMarker %v (only when more)", out.NextMarker)
	}
	for _, size := range []int32{0, 401} {
		_, err := x.c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{PageSize: aws.Int32(size)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
			t.Errorf("PageSize %d: %v", size, err)
		}
	}
	_, err = x.c.DescribeTrustStores(ctx, &elb.DescribeTrustStoresInput{Marker: aws.String("bogus!")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Errorf("bad marker: %v", err)
	}
	var marker *string
	n := 0
	for {
		out, err := x.c.DescribeSSLPolicies(ctx, &elb.DescribeSSLPoliciesInput{PageSize: aws.Int32(5), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range out.SslPolicies {
			n++
			if len(sp.SslProtocols) == 0 || len(sp.Ciphers) == 0 {
				t.Errorf("policy %s: %+v", *sp.Name, sp)
			}
		}
		if marker = out.NextMarker; marker == nil {
			break
		}
	}
	if n < 10 {
		t.Errorf("%d SSL policies", n)
	}
	lim, err := x.c.DescribeAccountLimits(ctx, &elb.DescribeAccountLimitsInput{})
	if err != nil || len(lim.Limits) == 0 || *lim.Limits[0].Name != "application-load-balancers" || *lim.Limits[0].Max != "50" {
		t.Errorf("limits %v %+v", err, lim)
	}
}
