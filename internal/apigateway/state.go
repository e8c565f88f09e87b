package apigateway

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"time"
)

// SchemaVersion is the version of apigateway.json this package writes.
// Load refuses a newer one rather than dropping what it does not know.
const SchemaVersion = 1

// State is every API Gateway resource created through the API: what
// apigateway.json holds. A State is never changed after it was applied;
// mutations work on a Clone. The JSON field names are the model's, so the
// file reads like the API's answers.
type State struct {
	Schema      int           `json:"schema"`
	DomainNames []*DomainName `json:"domainNames,omitempty"`
	RestAPIs    []*RestAPI    `json:"restApis,omitempty"`

	// blobDir is where Blob hashes resolve (the store's blobs/sha256).
	blobDir string
}

// Epoch is a timestamp sent as a JSON number of seconds since 1970, the
// REST-JSON protocol's timestamp format.
type Epoch struct{ time.Time }

// MarshalJSON writes whole seconds.
func (e Epoch) MarshalJSON() ([]byte, error) {
	if e.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, e.Unix(), 10), nil
}

// UnmarshalJSON reads (possibly fractional) seconds.
func (e *Epoch) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*e = Epoch{}
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	sec := int64(f)
	*e = Epoch{time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()}
	return nil
}

// Blob is an immutable copy of bytes the API loaded (a truststore, an
// imported certificate or key), stored under blobs/sha256/<SHA256>.
type Blob struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Bucket, Key and VersionID say where a truststore was read from
	// (VersionID is "" on a bucket without versioning).
	Bucket    string `json:"bucket,omitempty"`
	Key       string `json:"key,omitempty"`
	VersionID string `json:"versionId,omitempty"`
}

// EndpointConfiguration is the model's EndpointConfiguration.
type EndpointConfiguration struct {
	Types          []string `json:"types,omitempty"`
	IPAddressType  string   `json:"ipAddressType,omitempty"`
	VpcEndpointIDs []string `json:"vpcEndpointIds,omitempty"`
}

// MutualTLS is a domain's mutualTlsAuthentication plus the pinned copy of
// the truststore it was loaded from.
type MutualTLS struct {
	TruststoreURI      string   `json:"truststoreUri"`
	TruststoreVersion  string   `json:"truststoreVersion,omitempty"`
	TruststoreWarnings []string `json:"truststoreWarnings,omitempty"`
	// Truststore is the copy the data plane verifies against; it changes
	// only when the domain is updated (version pinning).
	Truststore Blob `json:"truststore"`
}

// DomainName is a custom domain name and its base path mappings.
type DomainName struct {
	Name                   string                 `json:"domainName"`
	CertificateName        string                 `json:"certificateName,omitempty"`
	CertificateArn         string                 `json:"certificateArn,omitempty"`
	RegionalCertificateArn string                 `json:"regionalCertificateArn,omitempty"`
	RegionalCertName       string                 `json:"regionalCertificateName,omitempty"`
	EndpointConfiguration  *EndpointConfiguration `json:"endpointConfiguration,omitempty"`
	SecurityPolicy         string                 `json:"securityPolicy,omitempty"`
	MutualTLS              *MutualTLS             `json:"mutualTls,omitempty"`
	Tags                   map[string]string      `json:"tags,omitempty"`
	Mappings               []*BasePathMapping     `json:"basePathMappings,omitempty"`
	Created                Epoch                  `json:"created"`
	// Certificate and Key are an imported certificate (certificateBody +
	// certificateChain, PEM) and its private key, when one was given.
	Certificate *Blob `json:"certificate,omitempty"`
	Key         *Blob `json:"key,omitempty"`

	file *fileInfo
}

// BasePathMapping maps a first path segment ("" for the whole domain) to a
// stage of a REST API.
type BasePathMapping struct {
	BasePath  string `json:"basePath"`
	RestAPIID string `json:"restApiId"`
	Stage     string `json:"stage,omitempty"`
}

// RestAPI is a REST API with its resources, deployments and stages.
type RestAPI struct {
	ID                        string                 `json:"id"`
	Name                      string                 `json:"name"`
	Description               string                 `json:"description,omitempty"`
	Version                   string                 `json:"version,omitempty"`
	Created                   Epoch                  `json:"createdDate"`
	APIKeySource              string                 `json:"apiKeySource,omitempty"`
	EndpointConfiguration     *EndpointConfiguration `json:"endpointConfiguration,omitempty"`
	DisableExecuteAPIEndpoint bool                   `json:"disableExecuteApiEndpoint"`
	BinaryMediaTypes          []string               `json:"binaryMediaTypes,omitempty"`
	Tags                      map[string]string      `json:"tags,omitempty"`
	RootResourceID            string                 `json:"rootResourceId"`
	Resources                 []*Resource            `json:"resources,omitempty"`
	Deployments               []*Deployment          `json:"deployments,omitempty"`
	Stages                    []*Stage               `json:"stages,omitempty"`

	file *fileInfo
}

// Resource is a resource of a REST API: a path part under its parent and
// the methods it answers.
type Resource struct {
	ID       string             `json:"id"`
	ParentID string             `json:"parentId,omitempty"`
	PathPart string             `json:"pathPart,omitempty"`
	Methods  map[string]*Method `json:"resourceMethods,omitempty"`
}

// Method is a method of a resource.
type Method struct {
	HTTPMethod        string                     `json:"httpMethod"`
	AuthorizationType string                     `json:"authorizationType"`
	AuthorizerID      string                     `json:"authorizerId,omitempty"`
	APIKeyRequired    bool                       `json:"apiKeyRequired"`
	OperationName     string                     `json:"operationName,omitempty"`
	RequestParameters map[string]bool            `json:"requestParameters,omitempty"`
	RequestModels     map[string]string          `json:"requestModels,omitempty"`
	MethodResponses   map[string]*MethodResponse `json:"methodResponses,omitempty"`
	Integration       *Integration               `json:"methodIntegration,omitempty"`
}

// MethodResponse is the model's MethodResponse.
type MethodResponse struct {
	StatusCode         string            `json:"statusCode"`
	ResponseParameters map[string]bool   `json:"responseParameters,omitempty"`
	ResponseModels     map[string]string `json:"responseModels,omitempty"`
}

// Integration is a method's integration: where requests go.
type Integration struct {
	Type                 string                          `json:"type"`
	HTTPMethod           string                          `json:"httpMethod,omitempty"`
	URI                  string                          `json:"uri,omitempty"`
	ConnectionType       string                          `json:"connectionType,omitempty"`
	RequestParameters    map[string]string               `json:"requestParameters,omitempty"`
	RequestTemplates     map[string]string               `json:"requestTemplates,omitempty"`
	PassthroughBehavior  string                          `json:"passthroughBehavior,omitempty"`
	TimeoutInMillis      int                             `json:"timeoutInMillis"`
	CacheNamespace       string                          `json:"cacheNamespace,omitempty"`
	CacheKeyParameters   []string                        `json:"cacheKeyParameters"`
	IntegrationResponses map[string]*IntegrationResponse `json:"integrationResponses,omitempty"`
}

// IntegrationResponse is the model's IntegrationResponse (MOCK and HTTP
// integrations answer through them).
type IntegrationResponse struct {
	StatusCode         string            `json:"statusCode"`
	SelectionPattern   string            `json:"selectionPattern,omitempty"`
	ResponseParameters map[string]string `json:"responseParameters,omitempty"`
	ResponseTemplates  map[string]string `json:"responseTemplates,omitempty"`
}

// Deployment is an immutable snapshot of a REST API's resources: stages
// serve a deployment, so changes to methods and integrations take effect
// only after the next CreateDeployment, as in API Gateway.
type Deployment struct {
	ID          string      `json:"id"`
	Description string      `json:"description,omitempty"`
	Created     Epoch       `json:"createdDate"`
	Resources   []*Resource `json:"snapshot"`
	// DisableExecuteAPIEndpoint is the API's setting when deployed: API
	// Gateway applies a change of disableExecuteApiEndpoint only after the
	// API is redeployed [doc: "Disable the default endpoint for REST APIs"].
	DisableExecuteAPIEndpoint bool `json:"disableExecuteApiEndpoint,omitempty"`
}

// AccessLogSettings is the model's AccessLogSettings. edge writes access
// lines in Format to the server's access-log destination; DestinationArn
// is kept and reported only.
type AccessLogSettings struct {
	Format         string `json:"format,omitempty"`
	DestinationArn string `json:"destinationArn,omitempty"`
}

// Stage is a named stage of a REST API serving one deployment.
type Stage struct {
	Name              string             `json:"stageName"`
	DeploymentID      string             `json:"deploymentId"`
	Description       string             `json:"description,omitempty"`
	Variables         map[string]string  `json:"variables,omitempty"`
	AccessLogSettings *AccessLogSettings `json:"accessLogSettings,omitempty"`
	TracingEnabled    bool               `json:"tracingEnabled"`
	Tags              map[string]string  `json:"tags,omitempty"`
	Created           Epoch              `json:"createdDate"`
	Updated           Epoch              `json:"lastUpdatedDate"`
}

// fileInfo marks a resource of the file layer (edge.yaml).
type fileInfo struct {
	// where names the resource in the file ("api_gateway.domain_names[0]").
	where string
	// truststore holds a file-layer domain's truststore bytes.
	truststore []byte
	// certPEM and keyPEM are a file-layer domain's certificate and key.
	certPEM, keyPEM []byte
}

// NewState returns an empty state.
func NewState() *State { return &State{Schema: SchemaVersion} }

// Clone returns a deep copy of st.
func (st *State) Clone() *State {
	b, err := json.Marshal(st)
	if err != nil {
		panic("apigateway: state does not marshal: " + err.Error())
	}
	c := &State{}
	if err := json.Unmarshal(b, c); err != nil {
		panic("apigateway: state does not unmarshal: " + err.Error())
	}
	c.blobDir = st.blobDir
	// File-layer markers are not persisted: carry them over by position.
	for i, d := range st.DomainNames {
		c.DomainNames[i].file = d.file
	}
	for i, a := range st.RestAPIs {
		c.RestAPIs[i].file = a.file
	}
	return c
}

// BlobPath is the file holding blob b.
func (st *State) BlobPath(b Blob) string { return filepath.Join(st.blobDir, b.SHA256) }

// Domain returns the domain named name, or nil.
func (st *State) Domain(name string) *DomainName {
	for _, d := range st.DomainNames {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// API returns the REST API with id, or nil.
func (st *State) API(id string) *RestAPI {
	for _, a := range st.RestAPIs {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// Resource returns the resource with id, or nil.
func (a *RestAPI) Resource(id string) *Resource { return findResource(a.Resources, id) }

// Stage returns the stage named name, or nil.
func (a *RestAPI) Stage(name string) *Stage {
	for _, s := range a.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Deployment returns the deployment with id, or nil.
func (a *RestAPI) Deployment(id string) *Deployment {
	for _, d := range a.Deployments {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func findResource(rs []*Resource, id string) *Resource {
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// resourcePath is the full path of r ("/", "/pets", "/pets/{proxy+}").
func resourcePath(rs []*Resource, r *Resource) string {
	if r.ParentID == "" {
		return "/"
	}
	var parts []string
	for c := r; c != nil && c.ParentID != ""; c = findResource(rs, c.ParentID) {
		parts = append(parts, c.PathPart)
		if len(parts) > len(rs) { // a cycle: cannot happen through the API
			break
		}
	}
	p := ""
	for i := len(parts) - 1; i >= 0; i-- {
		p += "/" + parts[i]
	}
	return p
}

func deleteFrom[T any](s []*T, match func(*T) bool) []*T {
	out := s[:0]
	for _, x := range s {
		if !match(x) {
			out = append(out, x)
		}
	}
	return out
}
