package apigateway

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type createRestAPIInput struct {
	Name                      string                 `json:"name"`
	Description               string                 `json:"description"`
	Version                   string                 `json:"version"`
	APIKeySource              string                 `json:"apiKeySource"`
	EndpointConfiguration     *EndpointConfiguration `json:"endpointConfiguration"`
	BinaryMediaTypes          []string               `json:"binaryMediaTypes"`
	Tags                      map[string]string      `json:"tags"`
	DisableExecuteAPIEndpoint bool                   `json:"disableExecuteApiEndpoint"`
	CloneFrom                 string                 `json:"cloneFrom"`
}

// restAPIOut is the model's RestApi.
type restAPIOut struct {
	ID                        string                 `json:"id"`
	Name                      string                 `json:"name"`
	Description               string                 `json:"description,omitempty"`
	Version                   string                 `json:"version,omitempty"`
	CreatedDate               Epoch                  `json:"createdDate"`
	APIKeySource              string                 `json:"apiKeySource,omitempty"`
	EndpointConfiguration     *EndpointConfiguration `json:"endpointConfiguration,omitempty"`
	BinaryMediaTypes          []string               `json:"binaryMediaTypes,omitempty"`
	Tags                      map[string]string      `json:"tags,omitempty"`
	DisableExecuteAPIEndpoint bool                   `json:"disableExecuteApiEndpoint"`
	RootResourceID            string                 `json:"rootResourceId"`
}

func apiOut(a *RestAPI) restAPIOut {
	return restAPIOut{ID: a.ID, Name: a.Name, Description: a.Description, Version: a.Version, CreatedDate: a.Created,
		APIKeySource: a.APIKeySource, EndpointConfiguration: a.EndpointConfiguration, BinaryMediaTypes: a.BinaryMediaTypes,
		Tags: a.Tags, DisableExecuteAPIEndpoint: a.DisableExecuteAPIEndpoint, RootResourceID: a.RootResourceID}
}

func (s *Service) createRestAPI(c *call) (result, error) {
	var in createRestAPIInput
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	if in.Name == "" {
		return result{}, badRequest("name must be specified.")
	}
	if in.CloneFrom != "" {
		return result{}, badRequest("edge does not implement cloneFrom.")
	}
	if in.APIKeySource == "" {
		in.APIKeySource = "HEADER"
	}
	if in.EndpointConfiguration == nil {
		in.EndpointConfiguration = &EndpointConfiguration{Types: []string{"EDGE"}}
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		id := randomID(10)
		for w.api_(id) != nil {
			id = randomID(10)
		}
		root := &Resource{ID: randomID(6)}
		a := &RestAPI{ID: id, Name: in.Name, Description: in.Description, Version: in.Version, Created: s.now(),
			APIKeySource: in.APIKeySource, EndpointConfiguration: in.EndpointConfiguration, BinaryMediaTypes: in.BinaryMediaTypes,
			Tags: in.Tags, DisableExecuteAPIEndpoint: in.DisableExecuteAPIEndpoint, RootResourceID: root.ID,
			Resources: []*Resource{root}}
		w.api.RestAPIs = append(w.api.RestAPIs, a)
		return result{http.StatusCreated, apiOut(a)}, nil
	})
}

func (w *world) findAPI(c *call) (*RestAPI, error) {
	a := w.api_(c.params["api"])
	if a == nil {
		return nil, notFound("Invalid API identifier specified %s", c.params["api"])
	}
	return a, nil
}

// mutableAPI finds the API for a mutation: file-layer APIs are read-only.
func (w *world) mutableAPI(c *call) (*RestAPI, error) {
	a, err := w.findAPI(c)
	if err != nil {
		return nil, err
	}
	if a.file != nil {
		return nil, readOnly("REST API", a.Name, a.file)
	}
	return a, nil
}

func (s *Service) getRestAPI(c *call) (result, error) {
	a, err := s.view().findAPI(c)
	if err != nil {
		return result{}, err
	}
	return result{http.StatusOK, apiOut(a)}, nil
}

func (s *Service) getRestAPIs(c *call) (result, error) {
	items, next, err := page(s.view().apis(), c)
	if err != nil {
		return result{}, err
	}
	out := list[restAPIOut]{Position: next, Item: []restAPIOut{}}
	for _, a := range items {
		out.Item = append(out.Item, apiOut(a))
	}
	return result{http.StatusOK, out}, nil
}

const restAPIPatchPaths = "/name, /description, /version, /disableExecuteApiEndpoint, /apiKeySource"

func (s *Service) updateRestAPI(c *call) (result, error) {
	ops, err := parsePatch(c.body)
	if err != nil {
		return result{}, err
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		a, err := w.mutableAPI(c)
		if err != nil {
			return result{}, err
		}
		for _, op := range ops {
			if op.Op != "replace" {
				return result{}, invalidPath(op, restAPIPatchPaths)
			}
			switch op.Path {
			case "/name":
				if op.Value == "" {
					return result{}, badRequest("name must not be empty.")
				}
				a.Name = op.Value
			case "/description":
				a.Description = op.Value
			case "/version":
				a.Version = op.Value
			case "/apiKeySource":
				a.APIKeySource = op.Value
			case "/disableExecuteApiEndpoint":
				b, err := parseBool(op)
				if err != nil {
					return result{}, err
				}
				a.DisableExecuteAPIEndpoint = b
			default:
				return result{}, invalidPath(op, restAPIPatchPaths)
			}
		}
		return result{http.StatusOK, apiOut(a)}, nil
	})
}

func (s *Service) deleteRestAPI(c *call) (result, error) {
	return mutate(c.ctx, s, func(w *world) (result, error) {
		a, err := w.mutableAPI(c)
		if err != nil {
			return result{}, err
		}
		for _, d := range w.domains() {
			for _, m := range d.Mappings {
				if m.RestAPIID == a.ID {
					return result{}, badRequest("Cannot delete REST API %s: domain name %s maps base path %s to it; delete the base path mapping first.", a.ID, d.Name, mappingOut(m).BasePath)
				}
			}
		}
		w.api.RestAPIs = deleteFrom(w.api.RestAPIs, func(x *RestAPI) bool { return x.ID == a.ID })
		return result{status: http.StatusAccepted}, nil
	})
}

// ---- resources ----

// resourceOut is the model's Resource. resourceMethods holds each method
// as GetResources answers it without embed: the method's summary.
type resourceOut struct {
	ID              string             `json:"id"`
	ParentID        string             `json:"parentId,omitempty"`
	PathPart        string             `json:"pathPart,omitempty"`
	Path            string             `json:"path"`
	ResourceMethods map[string]*Method `json:"resourceMethods,omitempty"`
}

func resOut(rs []*Resource, r *Resource, embed bool) resourceOut {
	o := resourceOut{ID: r.ID, ParentID: r.ParentID, PathPart: r.PathPart, Path: resourcePath(rs, r)}
	if len(r.Methods) > 0 {
		o.ResourceMethods = map[string]*Method{}
		for k, m := range r.Methods {
			if embed {
				o.ResourceMethods[k] = m
			} else {
				o.ResourceMethods[k] = &Method{HTTPMethod: m.HTTPMethod, AuthorizationType: m.AuthorizationType, APIKeyRequired: m.APIKeyRequired}
			}
		}
	}
	return o
}

func embedMethods(c *call) bool {
	for _, e := range c.query["embed"] {
		for _, p := range strings.Split(e, ",") {
			if p == "methods" {
				return true
			}
		}
	}
	return false
}

func (s *Service) getResources(c *call) (result, error) {
	a, err := s.view().findAPI(c)
	if err != nil {
		return result{}, err
	}
	sorted := append([]*Resource(nil), a.Resources...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return resourcePath(a.Resources, sorted[i]) < resourcePath(a.Resources, sorted[j])
	})
	items, next, err := page(sorted, c)
	if err != nil {
		return result{}, err
	}
	out := list[resourceOut]{Position: next, Item: []resourceOut{}}
	for _, r := range items {
		out.Item = append(out.Item, resOut(a.Resources, r, embedMethods(c)))
	}
	return result{http.StatusOK, out}, nil
}

func (w *world) findResource(c *call, a *RestAPI) (*Resource, error) {
	r := a.Resource(c.params["resource"])
	if r == nil {
		return nil, notFound("Invalid Resource identifier specified")
	}
	return r, nil
}

func (s *Service) getResource(c *call) (result, error) {
	w := s.view()
	a, err := w.findAPI(c)
	if err != nil {
		return result{}, err
	}
	r, err := w.findResource(c, a)
	if err != nil {
		return result{}, err
	}
	return result{http.StatusOK, resOut(a.Resources, r, embedMethods(c))}, nil
}

// pathPartRE: a literal segment, a {param} or a greedy {param+}.
var pathPartRE = regexp.MustCompile(`^([a-zA-Z0-9._:@~!$&'()*,;=-]+|\{[a-zA-Z0-9._-]+\+?\})$`)

func checkPathPart(a *RestAPI, parent *Resource, part string) error {
	if !pathPartRE.MatchString(part) {
		return badRequest("Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.")
	}
	if strings.HasSuffix(parent.PathPart, "+}") {
		return badRequest("A greedy path variable (%s) must be the last part of a path; it cannot have children.", parent.PathPart)
	}
	isVar := strings.HasPrefix(part, "{")
	for _, sib := range a.Resources {
		if sib.ParentID != parent.ID {
			continue
		}
		if sib.PathPart == part {
			return conflict("Another resource with the same parent already has this name: %s", part)
		}
		if isVar && strings.HasPrefix(sib.PathPart, "{") {
			return badRequest("A sibling (%s) of this resource already has a variable path part -- only one is allowed", sib.PathPart)
		}
	}
	return nil
}

func (s *Service) createResource(c *call) (result, error) {
	var in struct {
		PathPart string `json:"pathPart"`
	}
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		a, err := w.mutableAPI(c)
		if err != nil {
			return result{}, err
		}
		parent, err := w.findResource(c, a)
		if err != nil {
			return result{}, err
		}
		if err := checkPathPart(a, parent, in.PathPart); err != nil {
			return result{}, err
		}
		r := &Resource{ID: randomID(6), ParentID: parent.ID, PathPart: in.PathPart}
		a.Resources = append(a.Resources, r)
		return result{http.StatusCreated, resOut(a.Resources, r, false)}, nil
	})
}

func (s *Service) updateResource(c *call) (result, error) {
	ops, err := parsePatch(c.body)
	if err != nil {
		return result{}, err
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		a, err := w.mutableAPI(c)
		if err != nil {
			return result{}, err
		}
		r, err := w.findResource(c, a)
		if err != nil {
			return result{}, err
		}
		for _, op := range ops {
			if op.Op != "replace" || op.Path != "/pathPart" || r.ParentID == "" {
				return result{}, invalidPath(op, "/pathPart")
			}
			parent := a.Resource(r.ParentID)
			old := r.PathPart
			r.PathPart = "\x00" // not its own sibling while checked
			if err := checkPathPart(a, parent, op.Value); err != nil {
				r.PathPart = old
				return result{}, err
			}
			r.PathPart = op.Value
		}
		return result{http.StatusOK, resOut(a.Resources, r, false)}, nil
	})
}

func (s *Service) deleteResource(c *call) (result, error) {
	return mutate(c.ctx, s, func(w *world) (result, error) {
		a, err := w.mutableAPI(c)
		if err != nil {
			return result{}, err
		}
		r, err := w.findResource(c, a)
		if err != nil {
			return result{}, err
		}
		if r.ParentID == "" {
			return result{}, badRequest("Cannot delete the root resource of a REST API.")
		}
		// Delete the resource and its descendants.
		gone := map[string]bool{r.ID: true}
		for changed := true; changed; {
			changed = false
			for _, x := range a.Resources {
				if !gone[x.ID] && gone[x.ParentID] {
					gone[x.ID], changed = true, true
				}
			}
		}
		a.Resources = deleteFrom(a.Resources, func(x *Resource) bool { return gone[x.ID] })
		return result{status: http.StatusAccepted}, nil
	})
}

// ---- methods ----

var httpMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true, "ANY": true}

type putMethodInput struct {
	AuthorizationType string            `json:"authorizationType"`
	AuthorizerID      string            `json:"authorizerId"`
	APIKeyRequired    bool              `json:"apiKeyRequired"`
	OperationName     string            `json:"operationName"`
	RequestParameters map[string]bool   `json:"requestParameters"`
	RequestModels     map[string]string `json:"requestModels"`
}

func (w *world) findMethod(c *call, forWrite bool) (*RestAPI, *Resource, *Method, error) {
	var a *RestAPI
	var err error
	if forWrite {
		a, err = w.mutableAPI(c)
	} else {
		a, err = w.findAPI(c)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := w.findResource(c, a)
	if err != nil {
		return nil, nil, nil, err
	}
	m := r.Methods[strings.ToUpper(c.params["method"])]
	if m == nil {
		return a, r, nil, notFound("Invalid Method identifier specified")
	}
	return a, r, m, nil
}

func (s *Service) putMethod(c *call) (result, error) {
	var in putMethodInput
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	hm := strings.ToUpper(c.params["method"])
	if !httpMethods[hm] {
		return result{}, badRequest("Invalid HTTP method %q: must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY.", c.params["method"])
	}
	switch in.AuthorizationType {
	case "NONE":
	case "":
		return result{}, badRequest("authorizationType must be specified (NONE).")
	default:
		return result{}, badRequest("edge implements authorizationType NONE only (got %s): authorizers are not emulated.", in.AuthorizationType)
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		_, r, m, err := w.findMethod(c, true)
		if m != nil {
			return result{}, conflict("Method already exists for this resource")
		}
		if r == nil {
			return result{}, err
		}
		m = &Method{HTTPMethod: hm, AuthorizationType: in.AuthorizationType, AuthorizerID: in.AuthorizerID, APIKeyRequired: in.APIKeyRequired,
			OperationName: in.OperationName, RequestParameters: in.RequestParameters, RequestModels: in.RequestModels}
		if r.Methods == nil {
			r.Methods = map[string]*Method{}
		}
		r.Methods[hm] = m
		return result{http.StatusCreated, m}, nil
	})
}

func (s *Service) getMethod(c *call) (result, error) {
	_, _, m, err := s.view().findMethod(c, false)
	if err != nil {
		return result{}, err
	}
	return result{http.StatusOK, m}, nil
}

func (s *Service) updateMethod(c *call) (result, error) {
	ops, err := parsePatch(c.body)
	if err != nil {
		return result{}, err
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		_, _, m, err := w.findMethod(c, true)
		if err != nil {
			return result{}, err
		}
		for _, op := range ops {
			seg, _ := splitPointer(op.Path)
			switch {
			case op.Path == "/operationName" && op.Op == "replace":
				m.OperationName = op.Value
			case op.Path == "/apiKeyRequired" && op.Op == "replace":
				b, err := parseBool(op)
				if err != nil {
					return result{}, err
				}
				m.APIKeyRequired = b
			case op.Path == "/authorizationType" && op.Op == "replace":
				if op.Value != "NONE" {
					return result{}, badRequest("edge implements authorizationType NONE only.")
				}
			case len(seg) == 2 && seg[0] == "requestParameters":
				if m.RequestParameters == nil {
					m.RequestParameters = map[string]bool{}
				}
				if op.Op == "remove" {
					delete(m.RequestParameters, seg[1])
				} else {
					b, err := parseBool(op)
					if err != nil {
						return result{}, err
					}
					m.RequestParameters[seg[1]] = b
				}
			default:
				return result{}, invalidPath(op, "/operationName, /apiKeyRequired, /authorizationType, /requestParameters/{name}")
			}
		}
		return result{http.StatusOK, m}, nil
	})
}

func (s *Service) deleteMethod(c *call) (result, error) {
	return mutate(c.ctx, s, func(w *world) (result, error) {
		_, r, _, err := w.findMethod(c, true)
		if err != nil {
			return result{}, err
		}
		delete(r.Methods, strings.ToUpper(c.params["method"]))
		if len(r.Methods) == 0 {
			r.Methods = nil
		}
		return result{status: http.StatusNoContent}, nil
	})
}

var statusCodeRE = regexp.MustCompile(`^[1-5]\d\d$`)

func (s *Service) putMethodResponse(c *call) (result, error) {
	var in MethodResponse
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	code := c.params["status"]
	if !statusCodeRE.MatchString(code) {
		return result{}, badRequest("Invalid status code %q.", code)
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		_, _, m, err := w.findMethod(c, true)
		if err != nil {
			return result{}, err
		}
		in.StatusCode = code
		if m.MethodResponses == nil {
			m.MethodResponses = map[string]*MethodResponse{}
		}
		m.MethodResponses[code] = &in
		return result{http.StatusCreated, &in}, nil
	})
}

func (s *Service) getMethodResponse(c *call) (result, error) {
	_, _, m, err := s.view().findMethod(c, false)
	if err != nil {
		return result{}, err
	}
	mr := m.MethodResponses[c.params["status"]]
	if mr == nil {
		return result{}, notFound("Invalid Response status code specified")
	}
	return result{http.StatusOK, mr}, nil
}

func (s *Service) deleteMethodResponse(c *call) (result, error) {
	return mutate(c.ctx, s, func(w *world) (result, error) {
		_, _, m, err := w.findMethod(c, true)
		if err != nil {
			return result{}, err
		}
		if m.MethodResponses[c.params["status"]] == nil {
			return result{}, notFound("Invalid Response status code specified")
		}
		delete(m.MethodResponses, c.params["status"])
		return result{status: http.StatusNoContent}, nil
	})
}

// ---- integrations ----

type putIntegrationInput struct {
	Type                string            `json:"type"`
	HTTPMethod          string            `json:"httpMethod"` // integrationHttpMethod on the wire is httpMethod
	URI                 string            `json:"uri"`
	ConnectionType      string            `json:"connectionType"`
	RequestParameters   map[string]string `json:"requestParameters"`
	RequestTemplates    map[string]string `json:"requestTemplates"`
	PassthroughBehavior string            `json:"passthroughBehavior"`
	CacheNamespace      string            `json:"cacheNamespace"`
	CacheKeyParameters  []string          `json:"cacheKeyParameters"`
	TimeoutInMillis     *int              `json:"timeoutInMillis"`
}

// checkIntegration validates an integration as API Gateway does for the
// types edge implements.
func checkIntegration(in *Integration) error {
	switch in.Type {
	case "HTTP", "HTTP_PROXY":
		if in.HTTPMethod == "" {
			return badRequest("Enumeration value for HttpMethod must be non-empty")
		}
		if !httpMethods[in.HTTPMethod] {
			return badRequest("Invalid integration HTTP method %q.", in.HTTPMethod)
		}
		if !strings.HasPrefix(in.URI, "http://") && !strings.HasPrefix(in.URI, "https://") {
			return badRequest("Invalid HTTP endpoint specified for URI %q: it must be an absolute http:// or https:// URL.", in.URI)
		}
	case "MOCK":
	case "AWS", "AWS_PROXY":
		return badRequest("edge implements integration types HTTP_PROXY, HTTP and MOCK; %s (AWS service and Lambda integrations) is not emulated.", in.Type)
	case "":
		return badRequest("type must be specified (HTTP_PROXY, HTTP or MOCK).")
	default:
		return badRequest("Invalid integration type %q.", in.Type)
	}
	if in.TimeoutInMillis < 50 || in.TimeoutInMillis > 29000 {
		return badRequest("Timeout should be between 50 ms and 29000 ms")
	}
	for k, v := range in.RequestParameters {
		if err := checkMapping(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) putIntegration(c *call) (result, error) {
	var in putIntegrationInput
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		_, r, m, err := w.findMethod(c, true)
		if err != nil {
			return result{}, err
		}
		it := &Integration{Type: in.Type, HTTPMethod: strings.ToUpper(in.HTTPMethod), URI: in.URI, ConnectionType: in.ConnectionType,
			RequestParameters: in.RequestParameters, RequestTemplates: in.RequestTemplates, PassthroughBehavior: in.PassthroughBehavior,
			CacheNamespace: in.CacheNamespace, CacheKeyParameters: in.CacheKeyParameters, TimeoutInMillis: 29000}
		if in.TimeoutInMillis != nil {
			it.TimeoutInMillis = *in.TimeoutInMillis
		}
		if it.ConnectionType == "" {
			it.ConnectionType = "INTERNET"
		}
		if it.PassthroughBehavior == "" {
			it.PassthroughBehavior = "WHEN_NO_MATCH"
		}
		if it.CacheNamespace == "" {
			it.CacheNamespace = r.ID
		}
		if it.CacheKeyParameters == nil {
			it.CacheKeyParameters = []string{}
		}
		if err := checkIntegration(it); err != nil {
			return result{}, err
		}
		m.Integration = it
		return result{http.StatusCreated, it}, nil
	})
}

func (w *world) findIntegration(c *call, forWrite bool) (*Method, *Integration, error) {
	_, _, m, err := w.findMethod(c, forWrite)
	if err != nil {
		return nil, nil, err
	}
	if m.Integration == nil {
		return m, nil, notFound("No integration defined for method")
	}
	return m, m.Integration, nil
}

func (s *Service) getIntegration(c *call) (result, error) {
	_, it, err := s.view().findIntegration(c, false)
	if err != nil {
		return result{}, err
	}
	return result{http.StatusOK, it}, nil
}

const integrationPatchPaths = "/uri, /httpMethod, /type, /timeoutInMillis, /passthroughBehavior, /requestParameters/{name}, /requestTemplates/{contentType}"

func (s *Service) updateIntegration(c *call) (result, error) {
	ops, err := parsePatch(c.body)
	if err != nil {
		return result{}, err
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		_, it, err := w.findIntegration(c, true)
		if err != nil {
			return result{}, err
		}
		for _, op := range ops {
			seg, _ := splitPointer(op.Path)
			switch {
			case op.Op == "replace" && op.Path == "/uri":
				it.URI = op.Value
			case op.Op == "replace" && op.Path == "/httpMethod":
				it.HTTPMethod = strings.ToUpper(op.Value)
			case op.Op == "replace" && op.Path == "/type":
				it.Type = op.Value
			case op.Op == "replace" && op.Path == "/passthroughBehavior":
				it.PassthroughBehavior = op.Value
			case op.Op == "replace" && op.Path == "/timeoutInMillis":
				n, err := strconv.Atoi(op.Value)
				if err != nil {
					return result{}, badRequest("Invalid timeoutInMillis %q.", op.Value)
				}
				it.TimeoutInMillis = n
			case len(seg) == 2 && seg[0] == "requestParameters":
				it.RequestParameters = patchMap(it.RequestParameters, op, seg[1])
			case len(seg) == 2 && seg[0] == "requestTemplates":
				it.RequestTemplates = patchMap(it.RequestTemplates, op, seg[1])
			default:
				return result{}, invalidPath(op, integrationPatchPaths)
			}
		}
		if err := checkIntegration(it); err != nil {
			return result{}, err
		}
		return result{http.StatusOK, it}, nil
	})
}

func (s *Service) deleteIntegration(c *call) (result, error) {
	return mutate(c.ctx, s, func(w *world) (result, error) {
		m, _, err := w.findIntegration(c, true)
		if err != nil {
			return result{}, err
		}
		m.Integration = nil
		return result{status: http.StatusNoContent}, nil
	})
}

func (s *Service) putIntegrationResponse(c *call) (result, error) {
	var in IntegrationResponse
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	code := c.params["status"]
	if !statusCodeRE.MatchString(code) {
		return result{}, badRequest("Invalid status code %q.", code)
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		_, it, err := w.findIntegration(c, true)
		if err != nil {
			return result{}, err
		}
		in.StatusCode = code
		if it.IntegrationResponses == nil {
			it.IntegrationResponses = map[string]*IntegrationResponse{}
		}
		it.IntegrationResponses[code] = &in
		return result{http.StatusCreated, &in}, nil
	})
}

func (s *Service) getIntegrationResponse(c *call) (result, error) {
	_, it, err := s.view().findIntegration(c, false)
	if err != nil {
		return result{}, err
	}
	ir := it.IntegrationResponses[c.params["status"]]
	if ir == nil {
		return result{}, notFound("Invalid Response status code specified")
	}
	return result{http.StatusOK, ir}, nil
}

func (s *Service) deleteIntegrationResponse(c *call) (result, error) {
	return mutate(c.ctx, s, func(w *world) (result, error) {
		_, it, err := w.findIntegration(c, true)
		if err != nil {
			return result{}, err
		}
		if it.IntegrationResponses[c.params["status"]] == nil {
			return result{}, notFound("Invalid Response status code specified")
		}
		delete(it.IntegrationResponses, c.params["status"])
		return result{status: http.StatusNoContent}, nil
	})
}
