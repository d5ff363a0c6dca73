package resourcemanager

// pageSize is RD's maximum page size; every list reads all pages.
const pageSize = 100

// maxPages bounds a listing (RD caps accounts far below 100 pages of 100;
// a server that never reaches TotalCount must not loop forever).
const maxPages = 1000

// listAll reads a paged RD list, page 1 first, until lastPage says the
// list is done (at most maxPages pages). fetch reads one page: its items,
// the page size RD answered with, and TotalCount. An item whose key is empty
// (malformed, or one the caller leaves out) or was seen on an earlier page
// (a page boundary shifted under a concurrent change) is skipped; the rest
// are converted with conv, in order.
func listAll[T, V any](fetch func(page int) (items []T, size, total int, err error), key func(T) string, conv func(T) V) ([]V, error) {
	var out []V
	seen := map[string]bool{}
	for page := 1; page <= maxPages; page++ {
		items, size, total, err := fetch(page)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			k := key(it)
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, conv(it))
		}
		if lastPage(page, size, len(items), total) {
			break
		}
	}
	return out, nil
}

// lastPage reports whether page (1-based) was the last one: it was empty,
// or the items up to its end reach TotalCount. size is the page size RD
// answered with (it may be smaller than the one asked for).
func lastPage(page, size, got, total int) bool {
	if size <= 0 {
		size = pageSize
	}
	return got == 0 || (page-1)*size+got >= total
}
