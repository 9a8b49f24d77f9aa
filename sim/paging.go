package sim

import (
	"slices"
	"sort"
)

// page walks list (in creation order) from the query's cursor and returns
// up to q.top objects that keep accepts, and whether more follow. It looks
// ahead for one more match so that the last page carries no nextLink.
// Cursors are creation sequence numbers: objects added while a client pages
// land after every cursor handed out, and deleted ones simply drop out.
func page[T stored](list []T, q *listQuery, keep func(T) bool) (items []T, last int64, more bool) {
	i := sort.Search(len(list), func(i int) bool { return list[i].meta().seq > q.after })
	for ; i < len(list); i++ {
		x := list[i]
		if !keep(x) {
			continue
		}
		if len(items) == q.top {
			return items, last, true
		}
		items = append(items, x)
		last = x.meta().seq
	}
	return items, last, false
}

// count returns how many objects keep accepts.
func count[T stored](list []T, keep func(T) bool) int {
	n := 0
	for _, x := range list {
		if keep(x) {
			n++
		}
	}
	return n
}

// bySeq sorts a set of candidates (from an index) into creation order.
func bySeq[T stored](xs []T) []T {
	out := slices.Clone(xs)
	slices.SortFunc(out, func(a, b T) int {
		switch {
		case a.meta().seq < b.meta().seq:
			return -1
		case a.meta().seq > b.meta().seq:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(out, func(a, b T) bool { return a.meta().seq == b.meta().seq })
}

func sortedStrings(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
