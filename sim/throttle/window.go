package throttle

import "time"

// grain is the resolution of the recorded admission times. Times are
// rounded up to it, which keeps the model exact in the safe direction (a
// window closes at most one grain late, never early) and bounds the memory
// of a log to one entry per grain of its window, however high the limit.
const grain = int64(time.Millisecond)

// entry is one recorded admission (or several admitted in the same grain):
// its time in Unix nanoseconds, a multiple of grain, and the cumulative cost
// admitted by the log up to and including it.
type entry struct {
	at, cum int64
}

// log is an exact sliding-window record of admitted cost for one key and
// one limit: a ring of entries in time order, with cumulative sums so that
// both "how much is used now" and "when will c more fit" are cheap.
//
// Admission rule: a cost c is admitted at time now iff the cost admitted in
// the window (now−W, now] plus c is at most the limit N. Since every window
// of length W that holds an admission ends at some admission, checking the
// windows that end now is enough for "in any window of length W the admitted
// cost never exceeds N".
//
// Throttled (refused) cost is not recorded in the ring: it does not count
// against the quota (see Limiter). It is kept, roughly, in buckets, only to
// report the x-ms-throttle-limit-percentage above 1.0.
type log struct {
	buf     []entry // ring; len is 0 or a power of two
	head, n int
	total   int64 // cumulative cost ever admitted
	evicted int64 // cumulative cost of the entries that left the window

	refused refusedBuckets
}

func (l *log) at(i int) *entry { return &l.buf[(l.head+i)&(len(l.buf)-1)] }

// evict drops the entries at or before cutoff: they are outside the window
// (cutoff, now].
func (l *log) evict(cutoff int64) {
	for l.n > 0 {
		e := l.at(0)
		if e.at > cutoff {
			return
		}
		l.evicted = e.cum
		l.head = (l.head + 1) & (len(l.buf) - 1)
		l.n--
	}
}

// used returns the admitted cost still in the window (after evict).
func (l *log) used() int64 { return l.total - l.evicted }

// add records cost admitted at t, which is not before the last entry.
func (l *log) add(t, cost int64) {
	t = (t + grain - 1) / grain * grain
	l.total += cost
	if l.n > 0 {
		if last := l.at(l.n - 1); last.at == t {
			last.cum = l.total
			return
		}
	}
	if l.n == len(l.buf) {
		l.grow()
	}
	*l.at(l.n) = entry{at: t, cum: l.total}
	l.n++
}

func (l *log) grow() {
	size := 2 * len(l.buf)
	if size == 0 {
		size = 16
	}
	buf := make([]entry, size)
	for i := 0; i < l.n; i++ {
		buf[i] = *l.at(i)
	}
	l.buf, l.head = buf, 0
}

// wait returns how long from now until cost fits under limit with window
// per, if nothing else is admitted meanwhile; 0 if it fits now. It must be
// called after evict(now−per), with 0 < cost ≤ limit.
func (l *log) wait(now, cost, limit, per int64) int64 {
	need := l.total + cost - limit // cumulative cost that must have left
	if need <= l.evicted {
		return 0
	}
	// Find the first entry whose cumulative cost reaches need; cum is
	// strictly increasing, and the last entry's cum (total) ≥ need since
	// cost ≤ limit.
	lo, hi := 0, l.n-1
	for lo < hi {
		mid := (lo + hi) / 2
		if l.at(mid).cum >= need {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	// That entry leaves the window when now−per ≥ its time.
	return l.at(lo).at + per - now
}

// refusedBuckets keeps the refused cost of roughly the last window, in
// refusedSlots slots of per/refusedSlots each. It is approximate by design:
// it only feeds the limit-percentage header above 1.0.
type refusedBuckets struct {
	epoch [refusedSlots]int64
	cost  [refusedSlots]int64
	any   bool
}

const refusedSlots = 16

func slotWidth(per int64) int64 { return max(per/refusedSlots, 1) }

func (r *refusedBuckets) add(now, cost, per int64) {
	e := now / slotWidth(per)
	i := e % refusedSlots
	if r.epoch[i] != e {
		r.epoch[i], r.cost[i] = e, 0
	}
	r.cost[i] += cost
	r.any = true
}

func (r *refusedBuckets) sum(now, per int64) int64 {
	if !r.any {
		return 0
	}
	e := now / slotWidth(per)
	var s int64
	for i := range refusedSlots {
		if r.epoch[i] > e-refusedSlots && r.epoch[i] <= e {
			s += r.cost[i]
		}
	}
	if s == 0 {
		r.any = false
	}
	return s
}
