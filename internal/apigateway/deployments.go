package apigateway

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

type createDeploymentInput struct {
	StageName        string            `json:"stageName"`
	StageDescription string            `json:"stageDescription"`
	Description      string            `json:"description"`
	Variables        map[string]string `json:"variables"`
}

type deploymentOut struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	CreatedDate Epoch  `json:"createdDate"`
}

func depOut(d *Deployment) deploymentOut {
	return deploymentOut{ID: d.ID, Description: d.Description, CreatedDate: d.Created}
}

var stageNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)

// snapshotResources deep-copies resources, so later edits never reach a deployment.
func snapshotResources(rs []*Resource) []*Resource {
	b, _ := json.Marshal(rs)
	var out []*Resource
	json.Unmarshal(b, &out)
	return out
}

func (s *Service) createDeployment(c *call) (result, error) {
	var in createDeploymentInput
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	if in.StageName != "" && !stageNameRE.MatchString(in.StageName) {
		return result{}, badRequest("Stage name only allows a-zA-Z0-9_- (got %q).", in.StageName)
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		a, err := w.mutableAPI(c)
		if err != nil {
			return result{}, err
		}
		methods := 0
		for _, r := range a.Resources {
			for _, m := range r.Methods {
				methods++
				if m.Integration == nil {
					return result{}, badRequest("No integration defined for method %s %s", m.HTTPMethod, resourcePath(a.Resources, r))
				}
			}
		}
		if methods == 0 {
			return result{}, badRequest("The REST API doesn't contain any methods")
		}
		d := &Deployment{ID: randomID(6), Description: in.Description, Created: s.now(), Resources: snapshotResources(a.Resources),
			DisableExecuteAPIEndpoint: a.DisableExecuteAPIEndpoint}
		a.Deployments = append(a.Deployments, d)
		if in.StageName != "" {
			if st := a.Stage(in.StageName); st != nil {
				st.DeploymentID, st.Updated = d.ID, s.now()
				for k, v := range in.Variables {
					if st.Variables == nil {
						st.Variables = map[string]string{}
					}
					st.Variables[k] = v
				}
			} else {
				a.Stages = append(a.Stages, &Stage{Name: in.StageName, DeploymentID: d.ID, Description: in.StageDescription,
					Variables: in.Variables, Created: s.now(), Updated: s.now()})
			}
		}
		return result{http.StatusCreated, depOut(d)}, nil
	})
}

func (s *Service) getDeployments(c *call) (result, error) {
	a, err := s.view().findAPI(c)
	if err != nil {
		return result{}, err
	}
	items, next, err := page(a.Deployments, c)
	if err != nil {
		return result{}, err
	}
	out := list[deploymentOut]{Position: next, Item: []deploymentOut{}}
	for _, d := range items {
		out.Item = append(out.Item, depOut(d))
	}
	return result{http.StatusOK, out}, nil
}

func (s *Service) getDeployment(c *call) (result, error) {
	a, err := s.view().findAPI(c)
	if err != nil {
		return result{}, err
	}
	d := a.Deployment(c.params["deployment"])
	if d == nil {
		return result{}, notFound("Invalid Deployment identifier specified")
	}
	return result{http.StatusOK, depOut(d)}, nil
}

func (s *Service) deleteDeployment(c *call) (result, error) {
	return mutate(c.ctx, s, func(w *world) (result, error) {
		a, err := w.mutableAPI(c)
		if err != nil {
			return result{}, err
		}
		d := a.Deployment(c.params["deployment"])
		if d == nil {
			return result{}, notFound("Invalid Deployment identifier specified")
		}
		for _, st := range a.Stages {
			if st.DeploymentID == d.ID {
				return result{}, badRequest("Active stages pointing to this deployment must be moved or deleted")
			}
		}
		a.Deployments = deleteFrom(a.Deployments, func(x *Deployment) bool { return x.ID == d.ID })
		return result{status: http.StatusAccepted}, nil
	})
}

// ---- stages ----

type createStageInput struct {
	StageName    string            `json:"stageName"`
	DeploymentID string            `json:"deploymentId"`
	Description  string            `json:"description"`
	Variables    map[string]string `json:"variables"`
	Tags         map[string]string `json:"tags"`
}

func (s *Service) createStage(c *call) (result, error) {
	var in createStageInput
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	if !stageNameRE.MatchString(in.StageName) {
		return result{}, badRequest("Stage name only allows a-zA-Z0-9_- (got %q).", in.StageName)
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		a, err := w.mutableAPI(c)
		if err != nil {
			return result{}, err
		}
		if a.Deployment(in.DeploymentID) == nil {
			return result{}, badRequest("Invalid deployment identifier specified")
		}
		if a.Stage(in.StageName) != nil {
			return result{}, conflict("Stage already exists")
		}
		st := &Stage{Name: in.StageName, DeploymentID: in.DeploymentID, Description: in.Description, Variables: in.Variables,
			Tags: in.Tags, Created: s.now(), Updated: s.now()}
		a.Stages = append(a.Stages, st)
		return result{http.StatusCreated, st}, nil
	})
}

func (s *Service) getStages(c *call) (result, error) {
	a, err := s.view().findAPI(c)
	if err != nil {
		return result{}, err
	}
	out := struct {
		Item []*Stage `json:"item"`
	}{Item: []*Stage{}}
	for _, st := range a.Stages {
		if d := c.query.Get("deploymentId"); d == "" || st.DeploymentID == d {
			out.Item = append(out.Item, st)
		}
	}
	return result{http.StatusOK, out}, nil
}

func (w *world) findStage(c *call, forWrite bool) (*RestAPI, *Stage, error) {
	var a *RestAPI
	var err error
	if forWrite {
		a, err = w.mutableAPI(c)
	} else {
		a, err = w.findAPI(c)
	}
	if err != nil {
		return nil, nil, err
	}
	st := a.Stage(c.params["stage"])
	if st == nil {
		return a, nil, notFound("Invalid Stage identifier specified")
	}
	return a, st, nil
}

func (s *Service) getStage(c *call) (result, error) {
	_, st, err := s.view().findStage(c, false)
	if err != nil {
		return result{}, err
	}
	return result{http.StatusOK, st}, nil
}

const stagePatchPaths = "/deploymentId, /description, /variables/{name}, /accessLogSettings/format, /accessLogSettings/destinationArn, /tracingEnabled"

func (s *Service) updateStage(c *call) (result, error) {
	ops, err := parsePatch(c.body)
	if err != nil {
		return result{}, err
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		a, st, err := w.findStage(c, true)
		if err != nil {
			return result{}, err
		}
		for _, op := range ops {
			seg, _ := splitPointer(op.Path)
			switch {
			case op.Op == "replace" && op.Path == "/deploymentId":
				if a.Deployment(op.Value) == nil {
					return result{}, badRequest("Invalid deployment identifier specified")
				}
				st.DeploymentID = op.Value
			case op.Op == "replace" && op.Path == "/description":
				st.Description = op.Value
			case op.Op == "replace" && op.Path == "/tracingEnabled":
				b, err := parseBool(op)
				if err != nil {
					return result{}, err
				}
				st.TracingEnabled = b
			case len(seg) == 2 && seg[0] == "variables":
				st.Variables = patchMap(st.Variables, op, seg[1])
			case len(seg) == 2 && seg[0] == "accessLogSettings":
				if st.AccessLogSettings == nil {
					st.AccessLogSettings = &AccessLogSettings{}
				}
				val := op.Value
				if op.Op == "remove" {
					val = ""
				}
				switch seg[1] {
				case "format":
					if val != "" {
						if _, err := ParseAccessLogFormat(val); err != nil {
							return result{}, badRequest("Invalid access log format: %v.", err)
						}
					}
					st.AccessLogSettings.Format = val
				case "destinationArn":
					st.AccessLogSettings.DestinationArn = val
				default:
					return result{}, invalidPath(op, stagePatchPaths)
				}
				if *st.AccessLogSettings == (AccessLogSettings{}) {
					st.AccessLogSettings = nil
				}
			case op.Op == "remove" && op.Path == "/accessLogSettings":
				st.AccessLogSettings = nil
			default:
				return result{}, invalidPath(op, stagePatchPaths)
			}
		}
		st.Updated = s.now()
		return result{http.StatusOK, st}, nil
	})
}

func (s *Service) deleteStage(c *call) (result, error) {
	return mutate(c.ctx, s, func(w *world) (result, error) {
		a, st, err := w.findStage(c, true)
		if err != nil {
			return result{}, err
		}
		for _, d := range w.domains() {
			for _, m := range d.Mappings {
				if m.RestAPIID == a.ID && m.Stage == st.Name {
					return result{}, badRequest("Cannot delete stage %s: domain name %s maps base path %s to it; delete the base path mapping first.", st.Name, d.Name, mappingOut(m).BasePath)
				}
			}
		}
		a.Stages = deleteFrom(a.Stages, func(x *Stage) bool { return x.Name == st.Name })
		return result{status: http.StatusAccepted}, nil
	})
}

// ---- tags ----

// tagsOf resolves a resource ARN to its tag map (a pointer to the field).
func (s *Service) tagsOf(w *world, arn string) (*map[string]string, bool, error) {
	prefix := s.arn("")
	path, ok := strings.CutPrefix(arn, prefix)
	if !ok {
		return nil, false, badRequest("Invalid resource ARN %q: expected %s/restapis/ID, …/stages/NAME or …/domainnames/NAME.", arn, prefix)
	}
	p := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(p) == 2 && p[0] == "domainnames":
		if d := w.domain(p[1]); d != nil {
			return &d.Tags, d.file != nil, nil
		}
	case len(p) == 2 && p[0] == "restapis":
		if a := w.api_(p[1]); a != nil {
			return &a.Tags, a.file != nil, nil
		}
	case len(p) == 4 && p[0] == "restapis" && p[2] == "stages":
		if a := w.api_(p[1]); a != nil {
			if st := a.Stage(p[3]); st != nil {
				return &st.Tags, a.file != nil, nil
			}
		}
	default:
		return nil, false, badRequest("Invalid resource ARN %q: edge tags REST APIs, stages and domain names.", arn)
	}
	return nil, false, notFound("Invalid resource identifier specified: %s", arn)
}

func (s *Service) getTags(c *call) (result, error) {
	tags, _, err := s.tagsOf(s.view(), c.params["arn"])
	if err != nil {
		return result{}, err
	}
	out := struct {
		Tags map[string]string `json:"tags"`
	}{Tags: *tags}
	if out.Tags == nil {
		out.Tags = map[string]string{}
	}
	return result{http.StatusOK, out}, nil
}

// MaxTags is API Gateway's tags-per-resource quota.
const MaxTags = 50

func (s *Service) tagResource(c *call) (result, error) {
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := c.decode(&in); err != nil {
		return result{}, err
	}
	return mutate(c.ctx, s, func(w *world) (result, error) {
		tags, ro, err := s.tagsOf(w, c.params["arn"])
		if err != nil {
			return result{}, err
		}
		if ro {
			return result{}, badRequest("%s is defined in edge.yaml; its tags are read-only.", c.params["arn"])
		}
		if *tags == nil {
			*tags = map[string]string{}
		}
		for k, v := range in.Tags {
			if k == "" || len(k) > 128 || len(v) > 256 || strings.HasPrefix(k, "aws:") {
				return result{}, badRequest("Invalid tag %q: keys are 1-128 characters and may not start with aws:, values at most 256.", k)
			}
			(*tags)[k] = v
		}
		if len(*tags) > MaxTags {
			return result{}, ErrLimitExceeded.With("A resource can have at most %d tags.", MaxTags)
		}
		return result{status: http.StatusNoContent}, nil
	})
}

func (s *Service) untagResource(c *call) (result, error) {
	keys := c.query["tagKeys"]
	return mutate(c.ctx, s, func(w *world) (result, error) {
		tags, ro, err := s.tagsOf(w, c.params["arn"])
		if err != nil {
			return result{}, err
		}
		if ro {
			return result{}, badRequest("%s is defined in edge.yaml; its tags are read-only.", c.params["arn"])
		}
		for _, k := range keys {
			delete(*tags, k)
		}
		if len(*tags) == 0 {
			*tags = nil
		}
		return result{status: http.StatusNoContent}, nil
	})
}
