package engine

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/internal/proc"
	"github.com/foyer-dev/foyer/store"
)

const (
	leaseName = "workers"
	leaseTTL  = 15 * time.Second
	// fenceMargin is how long the lease must still run when a write is
	// admitted: less, and the fence renews it first, so that no other
	// process can take it while the write is on its way.
	fenceMargin = 5 * time.Second
)

// Owner identifies a process holding the ledger lease.
type Owner struct {
	Host  string
	PID   int
	Nonce string // tells apart two processes that reused a pid
}

// NewOwner describes this process.
func NewOwner(nonce string) Owner {
	host, _ := os.Hostname()
	return Owner{Host: host, PID: os.Getpid(), Nonce: nonce}
}

func (o Owner) String() string { return o.Host + ":" + strconv.Itoa(o.PID) + ":" + o.Nonce }

// parseOwner reads back Owner.String.
func parseOwner(s string) (Owner, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Owner{}, false
	}
	j := strings.LastIndexByte(s[:i], ':')
	if j < 0 {
		return Owner{}, false
	}
	pid, err := strconv.Atoi(s[j+1 : i])
	if err != nil {
		return Owner{}, false
	}
	return Owner{Host: s[:j], PID: pid, Nonce: s[i+1:]}, true
}

// dead reports whether the holder is a process on this host that no longer
// exists. A holder on another host is never known dead: its lease must
// lapse. A stopped process (SIGSTOP, a laptop asleep) is not dead either.
func (o Owner) dead(self Owner) bool {
	if o.Host != self.Host || o.PID <= 0 || o.PID == self.PID {
		return false
	}
	return proc.Ended(o.PID)
}

// acquire takes the lease, taking it over from a holder that is dead, and
// in the same transaction makes the jobs left running available again
// (with the lease taken, nobody else may be working them) and the reports
// still owed due now.
func (e *Engine) acquire(ctx context.Context) (lease store.Lease, reclaimed, woken int, err error) {
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		takeOver := ""
		if cur, err := tx.GetLease(ctx, leaseName); err == nil && cur.Owner != e.Owner.String() && cur.Until.After(tx.Now()) {
			if o, ok := parseOwner(cur.Owner); ok && o.dead(e.Owner) {
				takeOver = cur.Owner
			}
		} else if err != nil && foyer.ErrorCode(err) != foyer.ENOTFOUND {
			return err
		}
		var err error
		if lease, err = tx.AcquireLease(ctx, leaseName, e.Owner.String(), takeOver, tx.Now().Add(leaseTTL)); err != nil {
			return err
		}
		for _, q := range append([]string{queueProvision, queueReport}, e.serviceQueues()...) {
			n, err := tx.ReclaimJobs(ctx, q)
			if err != nil {
				return err
			}
			reclaimed += n
		}
		// Reports an earlier process still owes are sent now, not at
		// their next retry.
		woken, err = tx.WakeJobs(ctx, queueReport)
		return err
	})
	if foyer.ErrorCode(err) == foyer.ECONFLICT {
		return lease, 0, 0, fmt.Errorf("another foyer process is working this ledger (%s); wait for it or stop it: %w", foyer.ErrorMessage(err), err)
	}
	if err != nil {
		return lease, 0, 0, fmt.Errorf("take the ledger's worker lease: %w", err)
	}
	return lease, reclaimed, woken, nil
}

// keepLease renews the lease until ctx ends. If it is lost, the engine stops
// working: another process owns the jobs now.
func (e *Engine) keepLease(ctx context.Context) {
	defer close(e.done)
	tick := time.NewTicker(leaseTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := e.Store.InTx(ctx, func(tx store.Tx) error {
			_, err := tx.RenewLease(ctx, leaseName, e.Owner.String(), tx.Now().Add(leaseTTL))
			return err
		})
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return
		case foyer.ErrorCode(err) == foyer.ECONFLICT:
			_ = e.loseLease(err)
			return
		default:
			e.Log.Warn("renew the ledger's worker lease", "err", err)
		}
	}
}

// holdLease checks, in tx, that this engine still holds the lease at the
// generation it started under, renewing it if it would lapse within
// fenceMargin. Every intent recorded and every directory write sent is
// fenced by it: a process paused past its lease (Ctrl-Z, a laptop asleep, a
// VM paused) and resumed after another process took over learns it here,
// before it writes anything.
func (e *Engine) holdLease(ctx context.Context, tx store.Tx) error {
	gen := e.generation()
	if gen == 0 {
		return fmt.Errorf("the engine is not started: it holds no lease")
	}
	if err := e.lostLease(); err != nil {
		return err
	}
	l, err := tx.GetLease(ctx, leaseName)
	if err != nil {
		return fmt.Errorf("read the ledger's worker lease: %w", err)
	}
	if l.Owner != e.Owner.String() || l.Generation != gen {
		holder := l.Owner
		if holder == "" {
			holder = "nobody"
		}
		return e.loseLease(fmt.Errorf("lease generation %d is held by %s, not generation %d by this process", l.Generation, holder, gen))
	}
	if l.Until.Before(tx.Now().Add(fenceMargin)) {
		if _, err := tx.RenewLease(ctx, leaseName, e.Owner.String(), tx.Now().Add(leaseTTL)); err != nil {
			return e.loseLease(err)
		}
	}
	return nil
}

// fence is the gate of every directory write the engine sends: the lease
// is checked (in a transaction of its own) right before the write goes out.
type fence struct{ e *Engine }

func (f fence) Admit(ctx context.Context) error {
	return f.e.Store.InTx(ctx, func(tx store.Tx) error { return f.e.holdLease(ctx, tx) })
}

// CheckLease reports whether the engine still holds the lease it took at
// Start; a caller that waited (a plan shown at a prompt) checks it before
// going on. It returns ErrLeaseLost if another process took it.
func (e *Engine) CheckLease(ctx context.Context) error {
	return fence{e}.Admit(ctx)
}
