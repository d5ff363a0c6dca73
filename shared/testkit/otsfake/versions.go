package otsfake

import (
	"cmp"
	"math"
	"slices"

	pb "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore/otsprotocol"
)

// cellVal is one version of an attribute cell.
type cellVal struct {
	v  value
	ts int64 // milliseconds; the version's key
}

// versions are the versions of one cell, newest (largest timestamp) first;
// a stored cell has at least one. The service keeps up to the table's
// max_versions per cell; a write of an existing timestamp replaces that
// version.
type versions []cellVal

func (vs versions) latest() cellVal { return vs[0] }

// with returns vs plus c (replacing the version with c's timestamp), the
// newest maxVers kept. vs is not modified.
func (vs versions) with(c cellVal, maxVers int32) versions {
	out := make(versions, 0, len(vs)+1)
	out = append(out, c)
	for _, v := range vs {
		if v.ts != c.ts {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b cellVal) int { return cmp.Compare(b.ts, a.ts) })
	return out[:min(len(out), int(maxVers))]
}

// without returns vs less the version with timestamp ts (nil when none is
// left). vs is not modified.
func (vs versions) without(ts int64) versions {
	out := slices.DeleteFunc(slices.Clone(vs), func(v cellVal) bool { return v.ts == ts })
	if len(out) == 0 {
		return nil
	}
	return out
}

// timeRange is a read's version window [start, end) in milliseconds.
type timeRange struct{ start, end int64 }

// newTimeRange validates a request's time_range; maxVersions says the
// request also set max_versions.
func newTimeRange(tr *pb.TimeRange, maxVersions bool) (*timeRange, *opError) {
	if tr == nil {
		return nil, nil
	}
	if tr.SpecificTime != nil {
		if tr.StartTime != nil || tr.EndTime != nil {
			return nil, errParam("Invalid time range: specific_time and start_time/end_time cannot be given at the same time.")
		}
		if maxVersions {
			// The service's message, spelling included.
			return nil, errParam("Specific tiemstamp and max versions cannot be given at the same time.")
		}
		s := tr.GetSpecificTime()
		if s < 0 || s == math.MaxInt64 {
			return nil, errParam("Invalid specific time: %d.", s)
		}
		return &timeRange{start: s, end: s + 1}, nil
	}
	if tr.StartTime == nil || tr.EndTime == nil {
		// UNCONFIRMED: whether the service fills in a missing bound.
		return nil, errParam("Invalid time range: start_time and end_time are both required.")
	}
	r := &timeRange{start: tr.GetStartTime(), end: tr.GetEndTime()}
	if r.start < 0 || r.start >= r.end {
		return nil, errParam("Invalid time range: [%d, %d).", r.start, r.end)
	}
	return r, nil
}

// pick selects the versions a read returns from vs: those in the time
// range (any when nil), newest first, at most maxVersions (all when 0).
func pick(vs versions, tr *timeRange, maxVersions int) versions {
	var out versions
	for _, v := range vs {
		if maxVersions > 0 && len(out) == maxVersions {
			break
		}
		if tr == nil || (v.ts >= tr.start && v.ts < tr.end) {
			out = append(out, v)
		}
	}
	return out
}
