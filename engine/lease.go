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
	// leaseName is the exclusive lease of a process that works the
	// ledger alone: foyer apply and revoke, and foyer serve on SQLite.
	leaseName = "workers"
	// replicaLease prefixes the lease of each foyer serve replica
	// (Engine.Replicas), followed by its Owner.
	replicaLease = "replica:"
	leaseTTL     = 15 * time.Second
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

// lease is the name of the lease this engine holds: its own as a replica,
// else the exclusive one.
func (e *Engine) lease() string {
	if e.Replicas {
		return replicaLease + e.Owner.String()
	}
	return leaseName
}

// clientID names this engine's River client, so that a job's
// attempted_by says which replica worked it (ReclaimJobsOf).
func (e *Engine) clientID() string {
	if e.Replicas {
		return e.Owner.String()
	}
	return "" // River makes one up
}

// acquire takes the lease, taking it over from a holder that is dead, and
// in the same transaction makes the jobs left running available again
// (with the lease taken, nobody else may be working them) and the reports
// still owed due now.
func (e *Engine) acquire(ctx context.Context) (lease store.Lease, reclaimed, woken int, err error) {
	if e.Replicas {
		lease, reclaimed, err = e.acquireReplica(ctx)
		return lease, reclaimed, 0, err
	}
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		takeOver, err := e.deadHolder(ctx, tx)
		if err != nil {
			return err
		}
		if lease, err = tx.AcquireLease(ctx, leaseName, e.Owner.String(), takeOver, tx.Now().Add(leaseTTL)); err != nil {
			return err
		}
		// The exclusive lease excludes serve replicas too: one that is
		// alive refuses it; one whose lease lapsed has it ended here, so
		// that its fence fails if it wakes up.
		replicas, err := tx.ListLeases(ctx, replicaLease)
		if err != nil {
			return err
		}
		for _, r := range replicas {
			switch {
			case r.Owner == "":
			case !r.Until.Before(tx.Now()):
				return foyer.Errorf(foyer.ECONFLICT, "lease %s is held by foyer serve replica %s until %s", r.Name, r.Owner, r.Until.Format(time.RFC3339))
			default:
				if _, err := tx.ExpireLease(ctx, r.Name, r.Owner); err != nil {
					return err
				}
			}
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
		if e.Service {
			return lease, 0, 0, fmt.Errorf("another foyer process is working this ledger (%s); on SQLite only one foyer serve runs at a time: several replicas need a PostgreSQL ledger: %w", foyer.ErrorMessage(err), err)
		}
		return lease, 0, 0, fmt.Errorf("another foyer process is working this ledger (%s); wait for it or stop it: %w", foyer.ErrorMessage(err), err)
	}
	if err != nil {
		return lease, 0, 0, fmt.Errorf("take the ledger's worker lease: %w", err)
	}
	return lease, reclaimed, woken, nil
}

// deadHolder returns the holder of the exclusive lease if it is a process
// of this host that is gone, else "".
func (e *Engine) deadHolder(ctx context.Context, tx store.Tx) (string, error) {
	cur, err := tx.GetLease(ctx, leaseName)
	switch {
	case foyer.ErrorCode(err) == foyer.ENOTFOUND:
		return "", nil
	case err != nil:
		return "", err
	case cur.Owner != e.Owner.String() && cur.Until.After(tx.Now()):
		if o, ok := parseOwner(cur.Owner); ok && o.dead(e.Owner) {
			return cur.Owner, nil
		}
	}
	return "", nil
}

// acquireReplica takes this replica's own lease. The exclusive lease is
// taken and given back in the same transaction: its row stays locked
// until the transaction ends, so that an apply taking it at the same time
// waits and then sees this replica (and a running apply makes the replica
// wait for it). Replicas whose lease lapsed are taken over.
func (e *Engine) acquireReplica(ctx context.Context) (lease store.Lease, reclaimed int, err error) {
	owner := e.Owner.String()
	err = e.Store.InTx(ctx, func(tx store.Tx) error {
		takeOver, err := e.deadHolder(ctx, tx)
		if err != nil {
			return err
		}
		prev, err := tx.GetLease(ctx, leaseName)
		if err != nil && foyer.ErrorCode(err) != foyer.ENOTFOUND {
			return err
		}
		if _, err := tx.AcquireLease(ctx, leaseName, owner, takeOver, tx.Now().Add(leaseTTL)); err != nil {
			return err
		}
		if err := tx.ReleaseLease(ctx, leaseName, owner); err != nil {
			return err
		}
		if prev.Owner != "" && prev.Owner != owner {
			// An apply held it and is gone: no replica could start
			// while it held it, so its running jobs are nobody's.
			for _, q := range append([]string{queueProvision, queueReport}, e.serviceQueues()...) {
				n, err := tx.ReclaimJobs(ctx, q)
				if err != nil {
					return err
				}
				reclaimed += n
			}
		}
		if lease, err = tx.AcquireLease(ctx, e.lease(), owner, "", tx.Now().Add(leaseTTL)); err != nil {
			return err
		}
		return nil
	})
	if foyer.ErrorCode(err) == foyer.ECONFLICT {
		return lease, 0, fmt.Errorf("a foyer apply or revoke is working this ledger (%s); wait for it or stop it: %w", foyer.ErrorMessage(err), err)
	}
	if err != nil {
		return lease, 0, fmt.Errorf("take this replica's lease on the ledger: %w", err)
	}
	n, err := e.takeOverReplicas(ctx)
	return lease, reclaimed + n, err
}

// takeOverReplicas ends the lease of every other replica that let it lapse
// (killed, stopped, cut off from the database) and, in the same
// transaction, makes the jobs it was working available again, for the
// live replicas to take. A lapsed replica that wakes up fails its next
// fence: it sends nothing more. It returns how many jobs it reclaimed.
func (e *Engine) takeOverReplicas(ctx context.Context) (int, error) {
	var lapsed []store.Lease
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		ls, err := tx.ListLeases(ctx, replicaLease)
		for _, l := range ls {
			if l.Owner != "" && l.Owner != e.Owner.String() && l.Until.Before(tx.Now()) {
				lapsed = append(lapsed, l)
			}
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("look for replicas whose lease lapsed: %w", err)
	}
	total := 0
	for _, l := range lapsed {
		var ended bool
		var n int
		err := e.Store.InTx(ctx, func(tx store.Tx) error {
			var err error
			if ended, err = tx.ExpireLease(ctx, l.Name, l.Owner); err != nil || !ended {
				return err
			}
			n, err = tx.ReclaimJobsOf(ctx, l.Owner)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("take over from replica %s: %w", l.Owner, err)
		}
		if ended {
			total += n
			e.Log.Warn("took over from a replica whose lease lapsed", "replica", l.Owner,
				"lapsed_at", l.Until, "reclaimed_jobs", n)
		}
	}
	return total, nil
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
			_, err := tx.RenewLease(ctx, e.lease(), e.Owner.String(), tx.Now().Add(leaseTTL))
			return err
		})
		switch {
		case err == nil:
			if e.Replicas {
				if _, err := e.takeOverReplicas(ctx); err != nil && ctx.Err() == nil {
					e.Log.Warn("take over from lapsed replicas", "err", err)
				}
			}
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
	l, err := tx.GetLease(ctx, e.lease())
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
		if _, err := tx.RenewLease(ctx, e.lease(), e.Owner.String(), tx.Now().Add(leaseTTL)); err != nil {
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
