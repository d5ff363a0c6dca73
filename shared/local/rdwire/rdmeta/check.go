package rdmeta

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CheckAccepted lists how params break the documentation of action. It is
// for a request the server answered 200: accepting a request that RD
// documents as wrong (an unknown parameter, a missing required one, a value
// out of its limits) is a fake that lies.
func (m *Meta) CheckAccepted(action string, params map[string]string) []string {
	a, ok := m.Actions[action]
	if !ok {
		return []string{fmt.Sprintf("%s answered 200 but is not a documented action", action)}
	}
	var out []string
	present := map[string]bool{}
	for name, value := range params {
		if _, common := m.CommonParameters[name]; common {
			continue
		}
		base, _, _ := strings.Cut(name, ".")
		p, ok := a.Parameters[base]
		if !ok {
			out = append(out, fmt.Sprintf("%s: parameter %s is not documented", action, name))
			continue
		}
		present[base] = true
		if p.Type == "array" {
			out = append(out, checkFlat(action, name, base, p)...)
			continue
		}
		if name != base {
			out = append(out, fmt.Sprintf("%s: parameter %s: %s is not a list", action, name, base))
			continue
		}
		out = append(out, checkValue(action, name, value, p)...)
	}
	for name, p := range a.Parameters {
		if p.Required && !present[name] {
			out = append(out, fmt.Sprintf("%s: required parameter %s is missing", action, name))
		}
	}
	slices.Sort(out)
	return out
}

// checkFlat checks a list parameter flattened as Name.N or Name.N.Field.
func checkFlat(action, name, base string, p Param) []string {
	rest := strings.TrimPrefix(name, base+".")
	n, field, hasField := strings.Cut(rest, ".")
	if i, err := strconv.Atoi(n); err != nil || i < 1 {
		return []string{fmt.Sprintf("%s: parameter %s: %s.N needs N from 1", action, name, base)}
	}
	if p.Items == nil {
		return nil
	}
	if _, ok := p.Items.Properties[field]; hasField && !ok || !hasField && len(p.Items.Properties) > 0 {
		return []string{fmt.Sprintf("%s: parameter %s: %s has no such field", action, name, base)}
	}
	return nil
}

// checkValue checks one scalar value against its type and limits.
func checkValue(action, name, v string, p Param) []string {
	bad := func(format string, args ...any) []string {
		return []string{fmt.Sprintf("%s: parameter %s=%q: ", action, name, v) + fmt.Sprintf(format, args...)}
	}
	switch p.Type {
	case "integer":
		n, err := strconv.Atoi(v)
		if err != nil {
			return bad("not an integer")
		}
		if p.Minimum != nil && n < *p.Minimum || p.Maximum != nil && n > *p.Maximum {
			return bad("outside the documented range")
		}
	case "boolean":
		if v != "true" && v != "false" {
			return bad("not true or false")
		}
	}
	if len(p.Enum) > 0 && !slices.Contains(p.Enum, v) {
		return bad("not one of %v", p.Enum)
	}
	if n := utf8.RuneCountInString(v); p.MinLength > 0 && n < p.MinLength || p.MaxLength > 0 && n > p.MaxLength {
		return bad("%d characters, documented %d to %d", n, p.MinLength, p.MaxLength)
	}
	if p.Pattern != "" && !regexp.MustCompile(p.Pattern).MatchString(v) {
		return bad("breaks the documented character rule %s", p.Pattern)
	}
	return nil
}

// CheckAnswer lists how an answer of action breaks the documentation: an
// error code (with its status) not documented for it, or a success body
// with a field the action does not document or a value of another type.
func (m *Meta) CheckAnswer(action string, status int, body []byte) []string {
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return []string{fmt.Sprintf("%s: answer %d is not a JSON object: %v", action, status, err)}
	}
	if status != 200 {
		code, _ := v["Code"].(string)
		if !m.allowsError(action, code, status) {
			return []string{fmt.Sprintf("%s: error %d %s is not documented for it", action, status, code)}
		}
		return nil
	}
	a, ok := m.Actions[action]
	if !ok {
		return []string{fmt.Sprintf("%s: answered 200 but is not a documented action", action)}
	}
	fields := map[string]Field{"RequestId": {Type: "string"}}
	for k, f := range a.Response {
		fields[k] = f
	}
	var out []string
	checkObject(action, v, fields, &out)
	slices.Sort(out)
	return out
}

func checkObject(path string, v map[string]any, fields map[string]Field, out *[]string) {
	for k, val := range v {
		f, ok := fields[k]
		if !ok {
			*out = append(*out, fmt.Sprintf("%s.%s: field not documented", path, k))
			continue
		}
		checkField(path+"."+k, val, f, out)
	}
}

func checkField(path string, val any, f Field, out *[]string) {
	wrong := func() { *out = append(*out, fmt.Sprintf("%s: %T where %s is documented", path, val, f.Type)) }
	switch f.Type {
	case "string":
		if _, ok := val.(string); !ok {
			wrong()
		}
	case "integer":
		if n, ok := val.(float64); !ok || n != math.Trunc(n) {
			wrong()
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			wrong()
		}
	case "object":
		o, ok := val.(map[string]any)
		if !ok {
			wrong()
			return
		}
		checkObject(path, o, f.Properties, out)
	case "array":
		l, ok := val.([]any)
		if !ok {
			wrong()
			return
		}
		if f.Items != nil {
			for i, e := range l {
				checkField(fmt.Sprintf("%s[%d]", path, i), e, *f.Items, out)
			}
		}
	default:
		*out = append(*out, fmt.Sprintf("%s: documented type %q is not known to this check", path, f.Type))
	}
}
