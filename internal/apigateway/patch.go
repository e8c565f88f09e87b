package apigateway

import (
	"encoding/json"
	"fmt"
	"strings"
)

// PatchOperation is one of an Update*'s patchOperations: a JSON-Patch
// subset (RFC 6902 ops add, remove, replace, move, copy, test) whose path
// is a JSON pointer (RFC 6901: "~1" is "/", "~0" is "~").
type PatchOperation struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value string `json:"value,omitempty"`
	From  string `json:"from,omitempty"`
}

// patchRequest is the body of every Update* operation.
type patchRequest struct {
	PatchOperations []PatchOperation `json:"patchOperations"`
}

// parsePatch decodes an Update* body and checks every operation's op and
// path shape; the Update handler then interprets the paths it knows.
func parsePatch(body []byte) ([]PatchOperation, error) {
	var req patchRequest
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, badRequest("The request body is not valid JSON: %v.", err)
		}
	}
	for i, op := range req.PatchOperations {
		switch op.Op {
		case "add", "remove", "replace", "move", "copy", "test":
		default:
			return nil, badRequest("Invalid patch operation specified. Must be one of: [add, remove, replace, move, copy, test] (patchOperations[%d].op is %q).", i, op.Op)
		}
		if _, err := splitPointer(op.Path); err != nil {
			return nil, badRequest("Invalid patch path %q: %v.", op.Path, err)
		}
	}
	return req.PatchOperations, nil
}

// splitPointer splits a JSON pointer into its unescaped segments:
// "/requestParameters/integration.request.header.X" →
// ["requestParameters", "integration.request.header.X"]; "/a~1b" → ["a/b"].
func splitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, fmt.Errorf("the path is empty")
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("a path starts with '/'")
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		if strings.Contains(s, "~") {
			var b strings.Builder
			for j := 0; j < len(s); j++ {
				if s[j] != '~' {
					b.WriteByte(s[j])
					continue
				}
				if j+1 >= len(s) || (s[j+1] != '0' && s[j+1] != '1') {
					return nil, fmt.Errorf("'~' must be followed by 0 or 1 (RFC 6901)")
				}
				if s[j+1] == '0' {
					b.WriteByte('~')
				} else {
					b.WriteByte('/')
				}
				j++
			}
			parts[i] = b.String()
		}
	}
	return parts, nil
}

// invalidPath is the error for a path an Update operation does not know.
func invalidPath(op PatchOperation, valid string) *Error {
	return badRequest("Invalid patch path '%s' specified for op '%s'. Must be one of: [%s]", op.Path, op.Op, valid)
}

// patchMap applies an add/replace/remove of one key of a string map.
func patchMap(m map[string]string, op PatchOperation, key string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	switch op.Op {
	case "add", "replace":
		m[key] = op.Value
	case "remove":
		delete(m, key)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// parseBool reads a patch value as a boolean.
func parseBool(op PatchOperation) (bool, error) {
	switch strings.ToLower(op.Value) {
	case "true":
		return true, nil
	case "false", "":
		return false, nil
	}
	return false, badRequest("Invalid value %q for %s: expected true or false.", op.Value, op.Path)
}
