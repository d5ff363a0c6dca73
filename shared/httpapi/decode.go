package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/sase-multiaccount/backend/shared/apperr"
	"github.com/sase-multiaccount/backend/shared/validate"
)

// body returns the decoded request body, enforcing the size limit.
func body(e events.HTTPTriggerEvent) ([]byte, error) {
	raw := deref(e.Body)
	if e.IsBase64Encoded != nil && *e.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(raw)) > MaxBody+2 {
			return nil, TooLarge()
		}
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return nil, apperr.Malformed("The request body is marked base64 but does not decode.")
		}
		raw = string(b)
	}
	if len(raw) > MaxBody {
		return nil, TooLarge()
	}
	return []byte(raw), nil
}

// TooLarge is the error for a body over MaxBody.
func TooLarge() error {
	return apperr.New(apperr.KindTooLarge, apperr.CodeTooLarge, "The request body is larger than %d KiB.", MaxBody>>10)
}

// Decode reads the JSON object body strictly into v (see DecodeJSON).
func (r *Request) Decode(v any) error { return DecodeJSON(r.Body, v) }

// DecodeJSON reads a JSON object body strictly into v: a non-object, unknown
// fields, wrong types and trailing data are all 400 MalformedRequest, with a
// message that names the problem. The Content-Type header is not checked:
// the body must be a JSON object whatever it says (curl -d sends a form
// type), and bearer tokens make cross-site form posts useless anyway.
func DecodeJSON(body []byte, v any) error {
	b := strings.TrimLeft(string(body), " \t\r\n")
	if b == "" {
		return apperr.Malformed("The request body is empty; send a JSON object (at least {}).")
	}
	if b[0] != '{' {
		return apperr.Malformed("The request body must be a JSON object.")
	}
	if err := checkUTF8([]byte(b)); err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apperr.Wrap(err, apperr.KindMalformed, apperr.CodeMalformed, "%s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return apperr.Malformed("The request body has data after the JSON object.")
	}
	// encoding/json matches names case-insensitively and lets a repeated
	// name win silently; the contract is PascalCase names, each once.
	return checkNames(json.NewDecoder(strings.NewReader(b)), reflect.TypeOf(v), "")
}

// checkNames walks the (already valid) JSON alongside t and refuses object
// keys that are not spelled exactly like a field, or that repeat.
func checkNames(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return apperr.Malformed("The request body is not valid JSON.")
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return apperr.Malformed("The request body is not valid JSON.")
			}
			key := kt.(string)
			name := path + key
			if seen[key] {
				return apperr.Malformed("Field %s appears more than once.", validate.Clip(name))
			}
			seen[key] = true
			var ft reflect.Type
			if t != nil && t.Kind() == reflect.Struct {
				f, ok := exactField(t, key)
				if !ok {
					return apperr.Malformed("Unknown field %q; check the spelling (names are PascalCase).", validate.Clip(name))
				}
				ft = f.Type
			}
			if err := checkNames(dec, ft, name+"."); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
	case json.Delim('['):
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := checkNames(dec, et, fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i)); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
	}
	if err != nil {
		return apperr.Malformed("The request body is not valid JSON.")
	}
	return nil
}

// exactField finds the exported field whose JSON name is exactly key.
func exactField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Sprintf("Field %s must be %s, not a JSON %s.", field, jsonKind(te.Type.Kind().String()), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("The request body is not valid JSON (at byte %d).", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Sprintf("Unknown field %s; check the spelling (names are PascalCase).", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return "The request body is not valid JSON: it ends early or is malformed."
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	default:
		return "a number"
	}
}

// AllowQuery refuses query parameters other than the named ones, so a typo
// (MaxResult=) is an error rather than silently ignored.
func (r *Request) AllowQuery(names ...string) error {
	for k := range r.Query {
		if !slices.Contains(names, k) {
			return apperr.Malformed("Unknown query parameter %q; %s accepts %s.", validate.Clip(k), "this function", strings.Join(names, ", "))
		}
	}
	return nil
}
