package config

import (
	"fmt"
	"strings"
)

// Var declares one environment variable of a configuration C, once: how
// it is read (Read), and how README documents it (Markdown).
type Var[C any] struct {
	Name string
	// Default is the value of an unset (or blank) variable; DefaultFC
	// replaces it inside Function Compute when the two differ.
	Default, DefaultFC string
	// FromFC names a variable Function Compute sets that is read instead
	// of Name inside Function Compute (without a default).
	FromFC string
	// Unset says what leaving a variable without Default unset means, for
	// README's default column; Read does not use it.
	Unset string
	// Doc is README's "meaning" column (Markdown).
	Doc string
	// Set parses and stores the value, and refuses a bad one; Read puts
	// the variable's name in front of the error ("PORT" + " %q must be …").
	Set func(c *C, value string) error
}

// Read sets every variable of vars on c, in order, through getenv (a
// later Set may use what an earlier one stored), and returns one error per
// refused value.
func Read[C any](c *C, vars []Var[C], getenv func(string) string, inFC bool) []error {
	var errs []error
	for _, v := range vars {
		name, value := v.Name, v.Default
		switch {
		case inFC && v.FromFC != "":
			name, value = v.FromFC, ""
		case inFC && v.DefaultFC != "":
			value = v.DefaultFC
		}
		if s := strings.TrimSpace(getenv(name)); s != "" {
			value = s
		}
		if err := v.Set(c, value); err != nil {
			errs = append(errs, fmt.Errorf("%s %w", name, err))
		}
	}
	return errs
}

// Markdown renders vars as README's table: variable, default, meaning.
func Markdown[C any](vars []Var[C]) string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	cell := strings.NewReplacer("|", `\|`, "\n", " ")
	for _, v := range vars {
		doc := v.Doc
		if v.FromFC != "" {
			doc += fmt.Sprintf(" In FC the code reads `%s` (set by FC) instead.", v.FromFC)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, cell.Replace(v.defaultCell()), cell.Replace(doc))
	}
	return b.String()
}

func (v Var[C]) defaultCell() string {
	switch {
	case v.Default == "" && v.Unset != "":
		return v.Unset
	case v.Default == "":
		return "—"
	case v.DefaultFC != "":
		return fmt.Sprintf("`%s` locally, `%s` in FC", v.Default, v.DefaultFC)
	case v.FromFC != "":
		return fmt.Sprintf("`%s` locally", v.Default)
	default:
		return "`" + v.Default + "`"
	}
}
