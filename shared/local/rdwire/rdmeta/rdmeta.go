// Package rdmeta holds what Alibaba Cloud documents about the Resource
// Directory actions this project speaks (testdata/rd-api.json: parameters,
// limits, response fields and types, error codes and statuses, each with
// its source and date) and checks RD wire traffic against it. Tests use it
// to pin the RD wire fake and the production adapter to the documentation.
package rdmeta

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

//go:embed testdata/rd-api.json
var extract []byte

// Meta is the extract.
type Meta struct {
	CommonParameters       map[string]Param  `json:"commonParameters"`
	GatewayErrors          []ErrorDoc        `json:"gatewayErrors"`
	ServiceWideErrors      []ErrorDoc        `json:"serviceWideErrors"`
	UnverifiedGatewayError []ErrorDoc        `json:"unverifiedGatewayErrors"`
	Actions                map[string]Action `json:"actions"`
}

// Action is one RD action: its own parameters, its answer's fields and the
// error codes documented for it.
type Action struct {
	Parameters map[string]Param `json:"parameters"`
	Response   map[string]Field `json:"response"`
	Errors     []ErrorDoc       `json:"errors"`
}

// Param is a request parameter and its documented limits.
type Param struct {
	Type      string   `json:"type"` // string, integer, boolean, array
	Required  bool     `json:"required"`
	Enum      []string `json:"enum"`
	MinLength int      `json:"minLength"` // characters; 0: none stated
	MaxLength int      `json:"maxLength"`
	Minimum   *int     `json:"minimum"`
	Maximum   *int     `json:"maximum"`
	Pattern   string   `json:"pattern"` // Go regexp of the character rule
	Items     *Field   `json:"items"`   // array: the element (flattened as Name.N.Key)
}

// Field is a response field.
type Field struct {
	Type       string           `json:"type"` // string, integer, boolean, object, array
	Properties map[string]Field `json:"properties"`
	Items      *Field           `json:"items"`
}

// ErrorDoc is a documented error answer. Kind sorts gateway codes: request,
// throttling, permission, account, signing, server.
type ErrorDoc struct {
	Code   string `json:"code"`
	Status int    `json:"status"`
	Kind   string `json:"kind"`
}

// Load parses the embedded extract.
func Load() (*Meta, error) {
	var m Meta
	if err := json.Unmarshal(extract, &m); err != nil {
		return nil, fmt.Errorf("rdmeta: parse testdata/rd-api.json: %w", err)
	}
	if len(m.Actions) == 0 || len(m.CommonParameters) == 0 || len(m.GatewayErrors) == 0 {
		return nil, fmt.Errorf("rdmeta: testdata/rd-api.json has no actions, common parameters or gateway errors")
	}
	return &m, nil
}

// ActionNames lists the documented actions, sorted.
func (m *Meta) ActionNames() []string {
	out := make([]string, 0, len(m.Actions))
	for a := range m.Actions {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Documented is every error a call of action may be answered with: its own
// codes, the codes documented for every action of the service, and the
// gateway's (unverified ones included: the fake answers them).
func (m *Meta) Documented(action string) []ErrorDoc {
	out := slices.Clone(m.Actions[action].Errors)
	out = append(out, m.ServiceWideErrors...)
	out = append(out, m.GatewayErrors...)
	return append(out, m.UnverifiedGatewayError...)
}

// allowsError reports whether action may answer status with code.
func (m *Meta) allowsError(action, code string, status int) bool {
	for _, e := range m.Documented(action) {
		if e.Code == code && e.Status == status {
			return true
		}
	}
	// Missing{ParameterName}: a common request parameter is absent.
	name, ok := strings.CutPrefix(code, "Missing")
	_, common := m.CommonParameters[name]
	return ok && common && status == 400
}
