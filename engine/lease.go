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
// exists. A holder on another host is never known dead: its lease must lapse.
func (o Owner) dead(self Owner) bool {
	if o.Host != self.Host || o.PID <= 0 || o.PID == self.PID {
		return false
	}
	return proc.Ended(o.PID)
}

// acquire takes the lease, taking it over from a holder that is dead.
func (e *Engine) acquire(ctx context.Context) (store.Lease, error) {
	var lease store.Lease
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		takeOver := ""
		if cur, err := tx.GetLease(ctx, leaseName); err == nil && cur.Owner != e.Owner.String() && cur.Until.After(tx.Now()) {
			if o, ok := parseOwner(cur.Owner); ok && o.dead(e.Owner) {
				takeOver = cur.Owner
			}
		} else if err != nil && foyer.ErrorCode(err) != foyer.ENOTFOUND {
			return err
		}
		var err error
		lease, err = tx.AcquireLease(ctx, leaseName, e.Owner.String(), takeOver, tx.Now().Add(leaseTTL))
		return err
	})
	if foyer.ErrorCode(err) == foyer.ECONFLICT {
		return lease, fmt.Errorf("another foyer process is working this ledger (%s); wait for it or stop it: %w", foyer.ErrorMessage(err), err)
	}
	if err != nil {
		return lease, fmt.Errorf("take the ledger's worker lease: %w", err)
	}
	return lease, nil
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
			e.mu.Lock()
			e.lost = fmt.Errorf("lost the ledger's worker lease: %w", err)
			e.mu.Unlock()
			e.Log.Error("lost the ledger's worker lease; stopping", "err", err)
			return
		default:
			e.Log.Warn("renew the ledger's worker lease", "err", err)
		}
	}
}
