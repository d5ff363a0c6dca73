package otsfake

import (
	"cmp"
	"fmt"
	"slices"

	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
)

// filter is a decoded column condition or filter: a column value filter
// (single or composite), or a column pagination filter (reads only).
type filter struct {
	single    *pb.SingleColumnValueFilter
	value     value
	composite *pb.CompositeColumnValueFilter
	subs      []*filter
	page      *pb.ColumnPaginationFilter
}

func decodeFilter(b []byte) (*filter, *opError) {
	var f pb.Filter
	if err := unmarshal(b, &f); err != nil {
		return nil, errParam("Invalid filter: %v", err)
	}
	switch f.GetType() {
	case pb.FilterType_FT_SINGLE_COLUMN_VALUE:
		var s pb.SingleColumnValueFilter
		if err := unmarshal(f.Filter, &s); err != nil {
			return nil, errParam("Invalid single column filter: %v", err)
		}
		if s.ValueTransRule != nil {
			return nil, errUnsupported("A value transfer rule")
		}
		v, err := decodeSQLVariant(s.ColumnValue)
		if err != nil {
			return nil, errParam("Invalid filter value: %v", err)
		}
		return &filter{single: &s, value: v}, nil
	case pb.FilterType_FT_COMPOSITE_COLUMN_VALUE:
		var c pb.CompositeColumnValueFilter
		if err := unmarshal(f.Filter, &c); err != nil {
			return nil, errParam("Invalid composite filter: %v", err)
		}
		out := &filter{composite: &c}
		for _, sf := range c.SubFilters {
			b, err := marshal(sf)
			if err != nil {
				return nil, errParam("Invalid sub-filter: %v", err)
			}
			sub, oe := decodeFilter(b)
			if oe != nil {
				return nil, oe
			}
			if sub.page != nil {
				return nil, errParam("A column pagination filter cannot be a sub-filter.")
			}
			out.subs = append(out.subs, sub)
		}
		if c.GetCombinator() == pb.LogicalOperator_LO_NOT && len(out.subs) != 1 {
			return nil, errParam("LO_NOT takes exactly one sub-filter; got %d.", len(out.subs))
		}
		if len(out.subs) == 0 {
			return nil, errParam("A composite filter needs sub-filters.")
		}
		return out, nil
	case pb.FilterType_FT_COLUMN_PAGINATION:
		var p pb.ColumnPaginationFilter
		if err := unmarshal(f.Filter, &p); err != nil {
			return nil, errParam("Invalid column pagination filter: %v", err)
		}
		if p.GetOffset() < 0 || p.GetLimit() < 0 {
			return nil, errParam("Invalid column pagination filter: offset %d, limit %d.", p.GetOffset(), p.GetLimit())
		}
		return &filter{page: &p}, nil
	}
	return nil, errUnsupported(fmt.Sprintf("Filter type %s", f.GetType()))
}

// match evaluates a column value filter on a row's cells (nil when the row
// does not exist). A missing column passes unless filter_if_missing is set;
// values of another type never match. Only the newest version is compared
// unless latest_version_only is false, when any version may match.
func (f *filter) match(cols map[string]versions) bool {
	if f.single != nil {
		vs, ok := cols[f.single.GetColumnName()]
		if !ok {
			return !f.single.GetFilterIfMissing()
		}
		if f.single.LatestVersionOnly == nil || f.single.GetLatestVersionOnly() {
			return f.matchValue(vs.latest().v)
		}
		return slices.ContainsFunc(vs, func(c cellVal) bool { return f.matchValue(c.v) })
	}
	switch f.composite.GetCombinator() {
	case pb.LogicalOperator_LO_NOT:
		return !f.subs[0].match(cols)
	case pb.LogicalOperator_LO_AND:
		for _, s := range f.subs {
			if !s.match(cols) {
				return false
			}
		}
		return true
	default:
		for _, s := range f.subs {
			if s.match(cols) {
				return true
			}
		}
		return false
	}
}

// matchValue compares one cell value with a single column filter's.
func (f *filter) matchValue(v value) bool {
	if v.t != f.value.t {
		return false
	}
	var d int
	switch v.t {
	case vtInteger:
		d = cmp.Compare(v.i, f.value.i)
	case vtDouble:
		d = cmp.Compare(v.f, f.value.f)
	case vtString, vtBlob:
		d = cmp.Compare(v.s, f.value.s)
	case vtBoolean:
		switch {
		case v.b == f.value.b:
			d = 0
		case !v.b:
			d = -1
		default:
			d = 1
		}
	}
	switch f.single.GetComparator() {
	case pb.ComparatorType_CT_EQUAL:
		return d == 0
	case pb.ComparatorType_CT_NOT_EQUAL:
		return d != 0
	case pb.ComparatorType_CT_GREATER_THAN:
		return d > 0
	case pb.ComparatorType_CT_GREATER_EQUAL:
		return d >= 0
	case pb.ComparatorType_CT_LESS_THAN:
		return d < 0
	default:
		return d <= 0
	}
}

// checkCondition evaluates a write condition against the current row.
func checkCondition(c *pb.Condition, exists bool, cols map[string]versions) *opError {
	if c == nil {
		return errParam("Condition is required.")
	}
	switch c.GetRowExistence() {
	case pb.RowExistenceExpectation_EXPECT_EXIST:
		if !exists {
			return errConditionFailed
		}
	case pb.RowExistenceExpectation_EXPECT_NOT_EXIST:
		if exists {
			return errConditionFailed
		}
	}
	if len(c.ColumnCondition) > 0 {
		f, oe := decodeFilter(c.ColumnCondition)
		if oe != nil {
			return oe
		}
		if f.page != nil {
			return errParam("A column pagination filter is not a row condition.")
		}
		if !f.match(cols) {
			return errConditionFailed
		}
	}
	return nil
}
