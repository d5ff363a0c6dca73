package deploy

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ROS (Resource Orchestration Service) template support: template.yaml is
// written in the long form (Ref, Fn::Sub, Fn::GetAtt, Fn::If ...) so that
// plain YAML parsing works; LoadTemplate rejects short-form tags (!Ref). An
// Evaluator resolves a template for given parameter values the way ROS
// would, with resource attributes (Fn::GetAtt, Ref of a resource) left as
// placeholders "<Resource.Attribute>".

// Template is a parsed ROS template.
type Template struct {
	Path string
	Doc  map[string]any
}

// LoadTemplate parses a ROS YAML template.
func LoadTemplate(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var node yaml.Node
	if err := yaml.Unmarshal(b, &node); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := noShortTags(&node); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var doc map[string]any
	if err := node.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if v, _ := doc["ROSTemplateFormatVersion"].(string); v != "2015-09-01" {
		return nil, fmt.Errorf("%s: ROSTemplateFormatVersion is %q, want '2015-09-01' (a string)", path, v)
	}
	return &Template{Path: path, Doc: doc}, nil
}

// noShortTags rejects local tags such as !Ref: a plain YAML reader would
// take them for strings.
func noShortTags(n *yaml.Node) error {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return fmt.Errorf("line %d: short-form tag %s: write the long form (Ref:, Fn::...) instead", n.Line, n.Tag)
	}
	for _, c := range n.Content {
		if err := noShortTags(c); err != nil {
			return err
		}
	}
	return nil
}

// Section returns a top-level map section (Parameters, Resources, ...).
func (t *Template) Section(name string) map[string]any {
	m, _ := t.Doc[name].(map[string]any)
	return m
}

// Pseudo are the values of ROS pseudo parameters.
type Pseudo struct {
	Region, AccountID, StackName string
}

// Evaluator resolves a template for one set of parameter values.
type Evaluator struct {
	t          *Template
	params     map[string]any
	pseudo     Pseudo
	conditions map[string]bool
}

// noValue is what Ref: ALIYUN::NoValue evaluates to; containers drop it.
type noValue struct{}

// Evaluate prepares an Evaluator: values override the parameter defaults,
// every parameter without a default must be given, and values are checked
// against AllowedValues and AllowedPattern.
func (t *Template) Evaluate(values map[string]string, pseudo Pseudo) (*Evaluator, error) {
	e := &Evaluator{t: t, params: map[string]any{}, pseudo: pseudo, conditions: map[string]bool{}}
	var errs []error
	for name := range values {
		if _, ok := t.Section("Parameters")[name]; !ok {
			errs = append(errs, fmt.Errorf("parameter %s is not declared", name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.Section("Parameters"))) {
		p, _ := t.Section("Parameters")[name].(map[string]any)
		v, given := values[name]
		if !given {
			d, ok := p["Default"]
			if !ok {
				errs = append(errs, fmt.Errorf("parameter %s has no default and no value", name))
				continue
			}
			v = fmt.Sprint(d)
		}
		if allowed, ok := p["AllowedValues"].([]any); ok {
			var as []string
			for _, a := range allowed {
				as = append(as, fmt.Sprint(a))
			}
			if !slices.Contains(as, v) {
				errs = append(errs, fmt.Errorf("parameter %s = %q is not one of %v", name, v, as))
			}
		}
		if pat, ok := p["AllowedPattern"].(string); ok {
			re, err := regexp.Compile(pat)
			if err != nil {
				errs = append(errs, fmt.Errorf("parameter %s: AllowedPattern: %w", name, err))
			} else if !re.MatchString(v) {
				errs = append(errs, fmt.Errorf("parameter %s = %q does not match %s", name, v, pat))
			}
		}
		e.params[name] = v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := e.checkRules(); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(t.Section("Conditions"))) {
		v, err := e.Value(t.Section("Conditions")[name])
		if err != nil {
			return nil, fmt.Errorf("condition %s: %w", name, err)
		}
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("condition %s is not a boolean", name)
		}
		e.conditions[name] = b
	}
	return e, nil
}

// checkRules applies the template's Rules as ROS does before it creates or
// updates a stack: each rule whose RuleCondition holds (or that has none)
// must have every Assert true; a false one is refused with its
// AssertDescription.
func (e *Evaluator) checkRules() error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(e.t.Section("Rules"))) {
		rule, _ := e.t.Section("Rules")[name].(map[string]any)
		if c, ok := rule["RuleCondition"]; ok {
			holds, err := e.boolean("rule "+name, c)
			if err != nil {
				return err
			}
			if !holds {
				continue
			}
		}
		asserts, _ := rule["Assertions"].([]any)
		if len(asserts) == 0 {
			return fmt.Errorf("rule %s has no Assertions", name)
		}
		for _, a := range asserts {
			am, _ := a.(map[string]any)
			ok, err := e.boolean("rule "+name, am["Assert"])
			if err != nil {
				return err
			}
			if !ok {
				errs = append(errs, fmt.Errorf("rule %s: %v", name, am["AssertDescription"]))
			}
		}
	}
	return errors.Join(errs...)
}

// Param is a parameter's value.
func (e *Evaluator) Param(name string) string { s, _ := e.params[name].(string); return s }

// Condition is a condition's value.
func (e *Evaluator) Condition(name string) (bool, bool) { v, ok := e.conditions[name]; return v, ok }

// Resource is one evaluated resource.
type Resource struct {
	Name       string
	Type       string
	Properties map[string]any
	DependsOn  []string
}

// Resources evaluates every resource whose Condition (if any) holds.
func (e *Evaluator) Resources() (map[string]Resource, error) {
	out := map[string]Resource{}
	var errs []error
	for name, raw := range e.t.Section("Resources") {
		m, _ := raw.(map[string]any)
		if c, ok := m["Condition"].(string); ok {
			v, known := e.conditions[c]
			if !known {
				errs = append(errs, fmt.Errorf("resource %s: unknown condition %s", name, c))
				continue
			}
			if !v {
				continue
			}
		}
		props, err := e.Value(m["Properties"])
		if err != nil {
			errs = append(errs, fmt.Errorf("resource %s: %w", name, err))
			continue
		}
		pm, _ := props.(map[string]any)
		r := Resource{Name: name, Type: fmt.Sprint(m["Type"]), Properties: pm}
		switch d := m["DependsOn"].(type) {
		case string:
			r.DependsOn = []string{d}
		case []any:
			for _, x := range d {
				r.DependsOn = append(r.DependsOn, fmt.Sprint(x))
			}
		}
		out[name] = r
	}
	return out, errors.Join(errs...)
}

// Outputs evaluates the outputs whose Condition (if any) holds.
func (e *Evaluator) Outputs() (map[string]any, error) {
	out := map[string]any{}
	for name, raw := range e.t.Section("Outputs") {
		m, _ := raw.(map[string]any)
		if c, ok := m["Condition"].(string); ok && !e.conditions[c] {
			continue
		}
		v, err := e.Value(m["Value"])
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

var subRE = regexp.MustCompile(`\$\{(!?)([A-Za-z0-9_:.]+)\}`)

// Value evaluates one template value.
func (e *Evaluator) Value(v any) (any, error) {
	switch t := v.(type) {
	case []any:
		out := make([]any, 0, len(t))
		for _, x := range t {
			rv, err := e.Value(x)
			if err != nil {
				return nil, err
			}
			if _, drop := rv.(noValue); !drop {
				out = append(out, rv)
			}
		}
		return out, nil
	case map[string]any:
		if len(t) == 1 {
			for k, arg := range t {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return e.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(t))
		for k, x := range t {
			rv, err := e.Value(x)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := rv.(noValue); !drop {
				out[k] = rv
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

func (e *Evaluator) ref(name string) (any, error) {
	switch name {
	case "ALIYUN::Region":
		return e.pseudo.Region, nil
	case "ALIYUN::AccountId":
		return e.pseudo.AccountID, nil
	case "ALIYUN::StackName":
		return e.pseudo.StackName, nil
	case "ALIYUN::NoValue":
		return noValue{}, nil
	}
	if v, ok := e.params[name]; ok {
		return v, nil
	}
	if _, ok := e.t.Section("Resources")[name]; ok {
		return "<" + name + ">", nil
	}
	return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
}

func (e *Evaluator) intrinsic(fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref takes a name")
		}
		return e.ref(name)
	case "Fn::GetAtt":
		return e.getAtt(args)
	case "Fn::Sub":
		return e.sub(arg)
	case "Fn::Join":
		return e.join(args)
	case "Fn::Equals":
		return e.equals(args)
	case "Fn::Not", "Fn::And", "Fn::Or":
		return e.logical(fn, args)
	case "Fn::If":
		return e.ifCondition(args)
	}
	return nil, fmt.Errorf("%s is not supported here", fn)
}

// getAtt is Fn::GetAtt [resource, attribute]: a placeholder naming both.
func (e *Evaluator) getAtt(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("Fn::GetAtt takes [resource, attribute]")
	}
	res, attr := fmt.Sprint(args[0]), fmt.Sprint(args[1])
	if _, ok := e.t.Section("Resources")[res]; !ok {
		return nil, fmt.Errorf("Fn::GetAtt: no resource %s", res)
	}
	return "<" + res + "." + attr + ">", nil
}

// sub is Fn::Sub, a string or [string, map of local variables].
func (e *Evaluator) sub(arg any) (any, error) {
	var text string
	local := map[string]any{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub takes a string or [string, map]")
		}
		text, _ = a[0].(string)
		m, _ := a[1].(map[string]any)
		for k, x := range m {
			rv, err := e.Value(x)
			if err != nil {
				return nil, err
			}
			local[k] = rv
		}
	default:
		return nil, fmt.Errorf("Fn::Sub takes a string or [string, map]")
	}
	var err error
	out := subRE.ReplaceAllStringFunc(text, func(m string) string {
		sm := subRE.FindStringSubmatch(m)
		if sm[1] == "!" {
			return "${" + sm[2] + "}"
		}
		v, verr := e.subVariable(m, sm[2], local)
		err = errors.Join(err, verr)
		return fmt.Sprint(v)
	})
	return out, err
}

// subVariable is the value of ${name} (written m) in Fn::Sub: a local
// variable, a resource attribute (res.attr), or a Ref.
func (e *Evaluator) subVariable(m, name string, local map[string]any) (any, error) {
	if lv, ok := local[name]; ok {
		return lv, nil
	}
	if res, attr, ok := strings.Cut(name, "."); ok && !strings.Contains(name, "::") {
		var err error
		if _, exists := e.t.Section("Resources")[res]; !exists {
			err = fmt.Errorf("Fn::Sub %s: no resource %s", m, res)
		}
		return "<" + res + "." + attr + ">", err
	}
	return e.ref(name)
}

// join is Fn::Join [delimiter, list].
func (e *Evaluator) join(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("Fn::Join takes [delimiter, list]")
	}
	list, err := e.Value(args[1])
	if err != nil {
		return nil, err
	}
	l, ok := list.([]any)
	if !ok {
		return nil, fmt.Errorf("Fn::Join: second argument is not a list")
	}
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, fmt.Sprint(args[0])), nil
}

// equals is Fn::Equals of two values, compared as text.
func (e *Evaluator) equals(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("Fn::Equals takes two values")
	}
	a, err := e.Value(args[0])
	if err != nil {
		return nil, err
	}
	b, err := e.Value(args[1])
	if err != nil {
		return nil, err
	}
	return fmt.Sprint(a) == fmt.Sprint(b), nil
}

// logical is Fn::Not, Fn::And or Fn::Or over conditions and booleans.
func (e *Evaluator) logical(fn string, args []any) (any, error) {
	var vals []bool
	for _, x := range args {
		b, err := e.boolean(fn, x)
		if err != nil {
			return nil, err
		}
		vals = append(vals, b)
	}
	switch {
	case fn == "Fn::Not" && len(vals) == 1:
		return !vals[0], nil
	case fn == "Fn::And" && len(vals) >= 2:
		return !slices.Contains(vals, false), nil
	case fn == "Fn::Or" && len(vals) >= 2:
		return slices.Contains(vals, true), nil
	}
	return nil, fmt.Errorf("%s: wrong number of arguments", fn)
}

// boolean is one operand of fn: {"Condition": name} or a value that
// evaluates to a boolean.
func (e *Evaluator) boolean(fn string, x any) (bool, error) {
	xm, _ := x.(map[string]any)
	if name, ok := xm["Condition"].(string); ok {
		b, known := e.conditions[name]
		if !known {
			return false, fmt.Errorf("%s: unknown condition %s", fn, name)
		}
		return b, nil
	}
	rv, err := e.Value(x)
	if err != nil {
		return false, err
	}
	b, ok := rv.(bool)
	if !ok {
		return false, fmt.Errorf("%s: %v is not a boolean", fn, rv)
	}
	return b, nil
}

// ifCondition is Fn::If [condition, then, else].
func (e *Evaluator) ifCondition(args []any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("Fn::If takes [condition, then, else]")
	}
	name := fmt.Sprint(args[0])
	c, ok := e.conditions[name]
	if !ok {
		return nil, fmt.Errorf("Fn::If: unknown condition %s", name)
	}
	if c {
		return e.Value(args[1])
	}
	return e.Value(args[2])
}
