package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Serverless Devs (s.yaml, edition 3.0.0) support: reading a spec the way
// `s deploy` sees it after its magic variables are resolved, so that tests
// and scripts/deploy can check what would be deployed. Only the variable
// forms this repository's specs use are understood; any other ${...} is an
// error rather than a silent pass:
//
//	${env('NAME')}  ${env('NAME', 'default')}  ${vars.a.b}
//	${json(env('NAME'))}  ${json(file('path'))}  ${file('path')}
//	${config('AccountID')}
//
// `extend: other.yaml` is applied as Serverless Devs documents it: a deep
// merge where the extending file wins and lists are replaced, not merged.

// Lookup answers ${env('NAME')} (ok false when NAME is unset). Serverless
// Devs reads the environment of the shell that runs `s`.
type Lookup func(name string) (string, bool)

// MapLookup is a Lookup over a map.
func MapLookup(m map[string]string) Lookup {
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

// Spec is a resolved Serverless Devs spec.
type Spec struct {
	Path string
	Doc  map[string]any
}

// LoadSpec reads the spec at path, applies extend and resolves every
// variable with env (and config, for ${config('KEY')}).
func LoadSpec(path string, env Lookup, config map[string]string) (*Spec, error) {
	raw, err := readSpec(path, 0)
	if err != nil {
		return nil, err
	}
	r := &resolver{doc: raw, env: env, config: config, dir: filepath.Dir(path), busy: map[string]bool{}}
	v, err := r.resolve(raw, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Spec{Path: path, Doc: v.(map[string]any)}, nil
}

// RawSpec reads the spec at path and applies extend, leaving variables as
// written.
func RawSpec(path string) (map[string]any, error) { return readSpec(path, 0) }

func readSpec(path string, depth int) (map[string]any, error) {
	if depth > 5 {
		return nil, fmt.Errorf("%s: extend chain too deep", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if doc == nil {
		return nil, fmt.Errorf("%s: empty spec", path)
	}
	ext, ok := doc["extend"]
	if !ok {
		return doc, nil
	}
	name, ok := ext.(string)
	if !ok {
		return nil, fmt.Errorf("%s: extend must be a file name", path)
	}
	base, err := readSpec(filepath.Join(filepath.Dir(path), name), depth+1)
	if err != nil {
		return nil, err
	}
	delete(doc, "extend")
	return merge(base, doc).(map[string]any), nil
}

// merge is extend2's deep merge: maps merge key by key, anything else
// (lists included) is replaced by over.
func merge(base, over any) any {
	bm, ok1 := base.(map[string]any)
	om, ok2 := over.(map[string]any)
	if !ok1 || !ok2 {
		return over
	}
	out := maps.Clone(bm)
	for k, v := range om {
		if old, ok := out[k]; ok {
			out[k] = merge(old, v)
		} else {
			out[k] = v
		}
	}
	return out
}

type resolver struct {
	doc    map[string]any
	env    Lookup
	config map[string]string
	dir    string
	busy   map[string]bool // vars paths being resolved (cycle guard)
}

func (r *resolver) resolve(v any, at string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range slices.Sorted(maps.Keys(t)) {
			rv, err := r.resolve(t[k], at+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			rv, err := r.resolve(e, fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	case string:
		rv, err := r.interpolate(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.TrimPrefix(at, "."), err)
		}
		return rv, nil
	default:
		return v, nil
	}
}

// interpolate resolves the ${...} in s. A string that is exactly one
// ${...} takes the value's own type (an object from vars or json()).
func (r *resolver) interpolate(s string) (any, error) {
	spans, err := exprSpans(s)
	if err != nil || len(spans) == 0 {
		return s, err
	}
	if len(spans) == 1 && spans[0][0] == 0 && spans[0][1] == len(s) {
		return r.eval(strings.TrimSpace(s[2 : len(s)-1]))
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp[0]])
		v, err := r.eval(strings.TrimSpace(s[sp[0]+2 : sp[1]-1]))
		if err != nil {
			return nil, err
		}
		switch v.(type) {
		case map[string]any, []any:
			return nil, fmt.Errorf("%s: an object cannot be part of a string", s[sp[0]:sp[1]])
		}
		fmt.Fprint(&b, v)
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// exprSpans finds the ${...} spans of s, honouring quotes inside them.
func exprSpans(s string) ([][2]int, error) {
	var out [][2]int
	for i := 0; i < len(s); i++ {
		if !strings.HasPrefix(s[i:], "${") {
			continue
		}
		depth, quote, end := 0, byte(0), -1
		for j := i + 2; j < len(s) && end < 0; j++ {
			c := s[j]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '\'' || c == '"':
				quote = c
			case c == '{':
				depth++
			case c == '}' && depth > 0:
				depth--
			case c == '}':
				end = j + 1
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("unterminated ${ in %q", s)
		}
		out = append(out, [2]int{i, end})
		i = end - 1
	}
	return out, nil
}

var (
	callRE = regexp.MustCompile(`^([a-z]+)\((.*)\)$`)
	varsRE = regexp.MustCompile(`^vars((?:\.[A-Za-z0-9_-]+)+)$`)
)

func (r *resolver) eval(expr string) (any, error) {
	if m := varsRE.FindStringSubmatch(expr); m != nil {
		return r.vars(strings.Split(m[1][1:], "."))
	}
	m := callRE.FindStringSubmatch(expr)
	if m == nil {
		return nil, fmt.Errorf("unsupported variable ${%s}", expr)
	}
	fn, argText := m[1], strings.TrimSpace(m[2])
	switch fn {
	case "json":
		inner, err := r.eval(argText)
		if err != nil {
			return nil, err
		}
		s, ok := inner.(string)
		if !ok {
			return nil, fmt.Errorf("json(): argument is not a string")
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("json(%s): %w", argText, err)
		}
		return v, nil
	}
	args, err := stringArgs(argText)
	if err != nil {
		return nil, fmt.Errorf("${%s}: %w", expr, err)
	}
	switch {
	case fn == "env" && (len(args) == 1 || len(args) == 2):
		if v, ok := r.env(args[0]); ok && v != "" {
			return v, nil
		}
		if len(args) == 2 {
			return args[1], nil
		}
		return nil, &UnsetError{Name: args[0]}
	case fn == "file" && len(args) == 1:
		b, err := os.ReadFile(filepath.Join(r.dir, args[0]))
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case fn == "config" && len(args) == 1:
		if v, ok := r.config[args[0]]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("config(%q) is not known", args[0])
	}
	return nil, fmt.Errorf("unsupported variable ${%s}", expr)
}

// UnsetError reports an ${env('NAME')} without default whose variable is
// not set.
type UnsetError struct{ Name string }

func (e *UnsetError) Error() string {
	return fmt.Sprintf("environment variable %s is not set (the spec has no default for it)", e.Name)
}

// MissingEnv returns the name of the ${env()} variable without default
// that err reports (resolution stops at the first one).
func MissingEnv(err error) []string {
	var ue *UnsetError
	if errors.As(err, &ue) {
		return []string{ue.Name}
	}
	return nil
}

func (r *resolver) vars(path []string) (any, error) {
	key := strings.Join(path, ".")
	if r.busy[key] {
		return nil, fmt.Errorf("vars.%s refers to itself", key)
	}
	r.busy[key] = true
	defer delete(r.busy, key)
	var cur any = r.doc["vars"]
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("vars.%s is not defined", key)
		}
		if cur, ok = m[p]; !ok {
			return nil, fmt.Errorf("vars.%s is not defined", key)
		}
	}
	return r.resolve(cur, ".vars."+key)
}

// stringArgs parses 'a', 'b' (single or double quotes).
func stringArgs(s string) ([]string, error) {
	var out []string
	for s = strings.TrimSpace(s); s != ""; {
		q := s[0]
		if q != '\'' && q != '"' {
			return nil, fmt.Errorf("argument %q is not quoted", s)
		}
		end := strings.IndexByte(s[1:], q)
		if end < 0 {
			return nil, fmt.Errorf("unterminated quote in %q", s)
		}
		out = append(out, s[1:1+end])
		s = strings.TrimSpace(s[end+2:])
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("expected a comma before %q", s)
		}
		s = strings.TrimSpace(s[1:])
	}
	return out, nil
}

// Resources returns the spec's resources by name.
func (s *Spec) Resources() map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := s.Doc["resources"].(map[string]any)
	for k, v := range res {
		if m, ok := v.(map[string]any); ok {
			out[k] = m
		}
	}
	return out
}

// Get walks a path of map keys and list indexes ("props", "triggers", 0).
func Get(v any, path ...any) (any, bool) {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			l, ok := v.([]any)
			if !ok || k < 0 || k >= len(l) {
				return nil, false
			}
			v = l[k]
		default:
			return nil, false
		}
	}
	return v, true
}

// GetString is Get for a string value ("" when absent or not a string).
func GetString(v any, path ...any) string {
	x, _ := Get(v, path...)
	s, _ := x.(string)
	return s
}
