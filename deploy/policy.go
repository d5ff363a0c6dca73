package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Policy is a RAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Policy. Action and Resource are always
// lists here (RAM also accepts a single string).
type Statement struct {
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// ParsePolicy reads an evaluated policy document.
func ParsePolicy(v any) (Policy, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Policy{}, err
	}
	var raw struct {
		Version   string
		Statement []struct {
			Effect           string
			Action, Resource any
		}
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Policy{}, fmt.Errorf("policy document: %w", err)
	}
	p := Policy{Version: raw.Version}
	for i, s := range raw.Statement {
		st := Statement{Effect: s.Effect}
		var err1, err2 error
		st.Action, err1 = stringList(s.Action)
		st.Resource, err2 = stringList(s.Resource)
		if err1 != nil || err2 != nil {
			return Policy{}, fmt.Errorf("statement %d: Action and Resource must be strings or lists of strings", i)
		}
		p.Statement = append(p.Statement, st)
	}
	return p, nil
}

func stringList(v any) ([]string, error) {
	switch t := v.(type) {
	case string:
		return []string{t}, nil
	case []any:
		out := make([]string, len(t))
		for i, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("not a string: %v", x)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("not a string list: %v", v)
}

// Actions returns the allowed actions of the policy with the given service
// prefix (e.g. "ots"), without the prefix, sorted.
func (p Policy) Actions(service string) []string {
	var out []string
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			if svc, name, ok := strings.Cut(a, ":"); ok && svc == service && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// FunctionRole finds the RAM role every FC3 function of the evaluated
// template runs with and returns its inline policies by name, evaluated.
func (e *Evaluator) FunctionRole() (string, map[string]Policy, error) {
	res, err := e.Resources()
	if err != nil {
		return "", nil, err
	}
	role := ""
	for _, r := range res {
		if r.Type != "ALIYUN::FC3::Function" {
			continue
		}
		if _, ok := r.Properties["Role"]; !ok {
			continue // a function without credentials (the console)
		}
		ref, _ := r.Properties["Role"].(string) // "<Logical.Arn>" after evaluation
		name, ok := strings.CutSuffix(strings.TrimPrefix(ref, "<"), ".Arn>")
		if !ok || !strings.HasPrefix(ref, "<") {
			return "", nil, fmt.Errorf("function %s: Role is %q, want Fn::GetAtt [<role>, Arn]", r.Name, ref)
		}
		if role != "" && role != name {
			return "", nil, fmt.Errorf("functions use different roles: %s and %s", role, name)
		}
		role = name
	}
	r, ok := res[role]
	if !ok || r.Type != "ALIYUN::RAM::Role" {
		return "", nil, fmt.Errorf("function role %q is not an ALIYUN::RAM::Role of the template", role)
	}
	pols, _ := r.Properties["Policies"].([]any)
	out := map[string]Policy{}
	for _, p := range pols {
		name := GetString(p, "PolicyName")
		doc, _ := Get(p, "PolicyDocument")
		pol, err := ParsePolicy(doc)
		if err != nil {
			return "", nil, fmt.Errorf("policy %s: %w", name, err)
		}
		out[name] = pol
	}
	return role, out, nil
}

// TrustPolicy returns the evaluated AssumeRolePolicyDocument of a role.
func (e *Evaluator) TrustPolicy(role string) (any, error) {
	res, err := e.Resources()
	if err != nil {
		return nil, err
	}
	r, ok := res[role]
	if !ok {
		return nil, fmt.Errorf("no resource %s", role)
	}
	return r.Properties["AssumeRolePolicyDocument"], nil
}
