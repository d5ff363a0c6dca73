package otsfake

import (
	"cmp"

	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
)

// filter is a decoded column condition or filter.
type filter struct {
	single    *pb.SingleColumnValueFilter
	value     value
	composite *pb.CompositeColumnValueFilter
	subs      []*filter
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
			return nil, errParam("otsfake: value transfer rules are not supported.")
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
			out.subs = append(out.subs, sub)
		}
		if c.GetCombinator() == pb.LogicalOperator_LO_NOT && len(out.subs) != 1 {
			return nil, errParam("LO_NOT takes exactly one sub-filter; got %d.", len(out.subs))
		}
		if len(out.subs) == 0 {
			return nil, errParam("A composite filter needs sub-filters.")
		}
		return out, nil
	}
	return nil, errParam("otsfake: filter type %s is not supported.", f.GetType())
}

// match evaluates the filter on a row's visible cells (nil when the row
// does not exist). A missing column passes unless filter_if_missing is set;
// values of another type never match.
func (f *filter) match(cols map[string]cellVal) bool {
	if f.single != nil {
		c, ok := cols[f.single.GetColumnName()]
		if !ok {
			return !f.single.GetFilterIfMissing()
		}
		if c.v.t != f.value.t {
			return false
		}
		var d int
		switch c.v.t {
		case vtInteger:
			d = cmp.Compare(c.v.i, f.value.i)
		case vtDouble:
			d = cmp.Compare(c.v.f, f.value.f)
		case vtString, vtBlob:
			d = cmp.Compare(c.v.s, f.value.s)
		case vtBoolean:
			switch {
			case c.v.b == f.value.b:
				d = 0
			case !c.v.b:
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

// checkCondition evaluates a write condition against the current row.
func checkCondition(c *pb.Condition, exists bool, cols map[string]cellVal) *opError {
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
		if !f.match(cols) {
			return errConditionFailed
		}
	}
	return nil
}
