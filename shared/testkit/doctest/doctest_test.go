package doctest

import (
	"strings"
	"testing"
)

func TestSection(t *testing.T) {
	doc := "intro\n<!-- BEGIN table (generated) -->\n| a |\n| b |\n<!-- END table -->\noutro\n"
	got, i, j, err := section(doc, "table")
	if err != nil || got != "| a |\n| b |\n" {
		t.Fatalf("section = %q, %v", got, err)
	}
	if doc[:i]+"| c |\n"+doc[j:] != "intro\n<!-- BEGIN table (generated) -->\n| c |\n<!-- END table -->\noutro\n" {
		t.Errorf("the bounds %d, %d do not frame the section", i, j)
	}
	for _, bad := range []string{
		"no markers",
		"<!-- END table -->\n<!-- BEGIN table -->\n",
		"<!-- BEGIN table -->\n<!-- END table -->\n<!-- BEGIN table -->\n",
		"<!-- BEGIN table --><!-- END table -->\n",
	} {
		if _, _, _, err := section(bad, "table"); err == nil {
			t.Errorf("section(%q) was accepted", bad)
		}
	}
}

func TestDiff(t *testing.T) {
	d := diff("| a |\n| b |\n", "| a |\n| B |\n| c |\n")
	if !strings.Contains(d, "- | b |") || !strings.Contains(d, "+ | B |") || !strings.Contains(d, "+ | c |") || strings.Contains(d, "| a |") {
		t.Errorf("diff:\n%s", d)
	}
	if d := diff("x\ny\n", "y\nx\n"); !strings.Contains(d, "order") {
		t.Errorf("a reordering: %q", d)
	}
}
