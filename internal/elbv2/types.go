package elbv2

import "edge/internal/awsquery"

// Wire shapes of the ELBv2 model (botocore elbv2 2015-12-01) used in
// requests, responses and the persisted state alike. Field names are the
// model's member names; aws:"required" marks the model's required members.

type (
	list[T any] = awsquery.List[T]
	// Time is a Query-protocol timestamp.
	Time = awsquery.Time
)

// Tag is a resource tag.
type Tag struct {
	Key   string `aws:"required"`
	Value string
}

// Attribute is a load balancer, listener or target group attribute.
type Attribute struct {
	Key   string `aws:"required"`
	Value string
}

// Certificate is a listener certificate.
type Certificate struct {
	CertificateArn string
	IsDefault      *bool `xml:",omitempty"`
}

// MutualAuthentication is the model's MutualAuthenticationAttributes.
type MutualAuthentication struct {
	Mode                          string `xml:",omitempty"`
	TrustStoreArn                 string `xml:",omitempty"`
	IgnoreClientCertificateExpiry *bool  `xml:",omitempty"`
	TrustStoreAssociationStatus   string `xml:",omitempty"`
	AdvertiseTrustStoreCaNames    string `xml:",omitempty"`
}

// Action is a listener or rule action.
type Action struct {
	Type                string `aws:"required"`
	TargetGroupArn      string `xml:",omitempty"`
	Order               *int32 `xml:",omitempty"`
	RedirectConfig      *RedirectConfig
	FixedResponseConfig *FixedResponseConfig
	ForwardConfig       *ForwardConfig
}

// RedirectConfig is the model's RedirectActionConfig.
type RedirectConfig struct {
	Protocol   string `xml:",omitempty"`
	Port       string `xml:",omitempty"`
	Host       string `xml:",omitempty"`
	Path       string `xml:",omitempty"`
	Query      string `xml:",omitempty"`
	StatusCode string `aws:"required"`
}

// FixedResponseConfig is the model's FixedResponseActionConfig.
type FixedResponseConfig struct {
	MessageBody string `xml:",omitempty"`
	StatusCode  string `aws:"required"`
	ContentType string `xml:",omitempty"`
}

// ForwardConfig is the model's ForwardActionConfig.
type ForwardConfig struct {
	TargetGroups                list[TargetGroupTuple] `xml:",omitempty"`
	TargetGroupStickinessConfig *StickinessConfig
}

// TargetGroupTuple is one weighted target group.
type TargetGroupTuple struct {
	TargetGroupArn string
	Weight         *int32 `xml:",omitempty"`
}

// StickinessConfig is the model's TargetGroupStickinessConfig.
type StickinessConfig struct {
	Enabled         *bool  `xml:",omitempty"`
	DurationSeconds *int32 `xml:",omitempty"`
}

// RuleCondition is a rule condition.
type RuleCondition struct {
	Field                   string       `xml:",omitempty"`
	Values                  list[string] `xml:",omitempty"`
	HostHeaderConfig        *ValuesConfig
	PathPatternConfig       *ValuesConfig
	HttpHeaderConfig        *HttpHeaderConfig
	QueryStringConfig       *QueryStringConfig
	HttpRequestMethodConfig *ValuesConfig
	SourceIpConfig          *ValuesConfig
}

// ValuesConfig is a condition's Values list.
type ValuesConfig struct {
	Values list[string]
}

// HttpHeaderConfig is the model's HttpHeaderConditionConfig.
type HttpHeaderConfig struct {
	HttpHeaderName string
	Values         list[string]
}

// QueryStringConfig is the model's QueryStringConditionConfig.
type QueryStringConfig struct {
	Values list[KeyValue]
}

// KeyValue is the model's QueryStringKeyValuePair.
type KeyValue struct {
	Key   string `xml:",omitempty"`
	Value string
}

// TargetDescription is a registered target.
type TargetDescription struct {
	Id               string `aws:"required"`
	Port             *int32 `xml:",omitempty"`
	AvailabilityZone string `xml:",omitempty"`
}

// Matcher is a health check's success codes.
type Matcher struct {
	HttpCode string `xml:",omitempty"`
	GrpcCode string `xml:",omitempty"`
}

// SubnetMapping names a subnet of a load balancer.
type SubnetMapping struct {
	SubnetId           string
	AllocationId       string `xml:",omitempty"`
	PrivateIPv4Address string `xml:",omitempty"`
	IPv6Address        string `xml:",omitempty"`
}

// AvailabilityZone is one zone of a load balancer, one per subnet.
type AvailabilityZone struct {
	ZoneName string
	SubnetId string
}

// LoadBalancerState is a load balancer's State.
type LoadBalancerState struct {
	Code string
}

// TrustStoreInfo is the model's TrustStore.
type TrustStoreInfo struct {
	Name                   string
	TrustStoreArn          string
	Status                 string
	NumberOfCaCertificates int
	TotalRevokedEntries    int64
}

// TrustStoreRevocation is the model's (Describe)TrustStoreRevocation.
type TrustStoreRevocation struct {
	TrustStoreArn          string
	RevocationId           int64
	RevocationType         string
	NumberOfRevokedEntries int64
}

// LoadBalancerInfo is the model's LoadBalancer.
type LoadBalancerInfo struct {
	LoadBalancerArn       string
	DNSName               string
	CanonicalHostedZoneId string
	CreatedTime           Time
	LoadBalancerName      string
	Scheme                string
	VpcId                 string
	State                 LoadBalancerState
	Type                  string
	AvailabilityZones     list[AvailabilityZone]
	SecurityGroups        list[string]
	IpAddressType         string
}

// TargetGroupInfo is the model's TargetGroup.
type TargetGroupInfo struct {
	TargetGroupArn             string
	TargetGroupName            string
	Protocol                   string `xml:",omitempty"`
	Port                       *int32 `xml:",omitempty"`
	VpcId                      string `xml:",omitempty"`
	HealthCheckProtocol        string `xml:",omitempty"`
	HealthCheckPort            string `xml:",omitempty"`
	HealthCheckEnabled         bool
	HealthCheckIntervalSeconds int32
	HealthCheckTimeoutSeconds  int32
	HealthyThresholdCount      int32
	UnhealthyThresholdCount    int32
	HealthCheckPath            string   `xml:",omitempty"`
	Matcher                    *Matcher `xml:",omitempty"`
	LoadBalancerArns           list[string]
	TargetType                 string
	ProtocolVersion            string `xml:",omitempty"`
	IpAddressType              string `xml:",omitempty"`
}

// ListenerInfo is the model's Listener.
type ListenerInfo struct {
	ListenerArn          string
	LoadBalancerArn      string
	Port                 int32
	Protocol             string
	Certificates         list[Certificate] `xml:",omitempty"`
	SslPolicy            string            `xml:",omitempty"`
	DefaultActions       list[Action]
	AlpnPolicy           list[string]          `xml:",omitempty"`
	MutualAuthentication *MutualAuthentication `xml:",omitempty"`
}

// RuleInfo is the model's Rule.
type RuleInfo struct {
	RuleArn    string
	Priority   string
	Conditions list[RuleCondition]
	Actions    list[Action]
	IsDefault  bool
}
