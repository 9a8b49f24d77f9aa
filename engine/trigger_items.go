package engine

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/source"
	"github.com/foyer-dev/foyer/store"
)

// A trigger whose source is a blob prefix, that takes Event Grid's events,
// or that watches a folder applies inputs one by one: each version of each
// input (a blob's ETag, a file's size and modification time) once, as the
// ledger remembers (store.TriggerItems), whenever it is found again. River's
// uniqueness keeps one job per delivery; the ledger keeps one run per
// version, beyond the day River keeps finished jobs.

// isPrefix says whether a source names a blob prefix:
// azblob://container/ or azblob://container/prefix/.
func isPrefix(spec string) bool {
	return strings.HasPrefix(spec, "azblob://") && strings.HasSuffix(spec, "/")
}

// splitPrefix returns a blob prefix's container and prefix.
func splitPrefix(spec string) (container, prefix string) {
	container, prefix, _ = strings.Cut(strings.TrimPrefix(spec, "azblob://"), "/")
	return container, prefix
}

// matches says whether an input's name (its last path element) matches
// the trigger's pattern; no pattern matches every name.
func (t Trigger) matches(spec string) bool {
	if t.Pattern == "" {
		return true
	}
	ok, _ := path.Match(t.Pattern, path.Base(strings.ReplaceAll(spec, "\\", "/")))
	return ok
}

// StartBlob starts the run of a blob an Event Grid event announced, with
// the trigger that takes events for its container and prefix (the
// longest prefix), once per event id (delivery) and once per version
// (etag) of the blob. It returns the trigger's name. ENOTFOUND when no
// trigger takes this blob; EINVALID for an empty delivery id.
func (e *Engine) StartBlob(ctx context.Context, delivery, container, name, etag string, size int64) (trigger string, jobID int64, started bool, err error) {
	if delivery == "" || len(delivery) > 200 {
		return "", 0, false, foyer.Errorf(foyer.EINVALID, "a delivery id of 1 to 200 characters is needed")
	}
	var best *Trigger
	for _, n := range slices.Sorted(maps.Keys(e.Triggers)) {
		t := e.Triggers[n]
		if !t.Events || !isPrefix(t.Source) {
			continue
		}
		c, p := splitPrefix(t.Source)
		if c != container || !strings.HasPrefix(name, p) || !t.matches(name) {
			continue
		}
		if best == nil || len(p) > len(strings.TrimPrefix(best.Source, "azblob://"+c+"/")) {
			best = &t
		}
	}
	if best == nil {
		return "", 0, false, foyer.Errorf(foyer.ENOTFOUND, "no trigger takes events for blob %s in container %s", name, container)
	}
	args := TriggerArgs{Trigger: best.Name, Delivery: delivery, Item: "azblob://" + container + "/" + name, Version: ETag(etag), Size: size}
	jobID, started, err = e.insertTrigger(ctx, args)
	return best.Name, jobID, started, err
}

// ETag returns an entity tag without the quotes HTTP puts around it, as
// Event Grid's events and Blob Storage's listings give it differently.
func ETag(s string) string { return strings.Trim(strings.TrimSpace(s), `"`) }

// lockTrigger takes the trigger's one slot: its inputs are applied one at
// a time, so a scan and an event, or two scans, never plan the same input
// at once.
func (e *Engine) lockTrigger(ctx context.Context, name string) (func(), error) {
	v, _ := e.triggerLocks.LoadOrStore(name, make(chan struct{}, 1))
	slot := v.(chan struct{})
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fireItem applies one input of a trigger (a blob an event named).
func (e *Engine) fireItem(ctx context.Context, t Trigger, delivery string, it SourceItem) error {
	unlock, err := e.lockTrigger(ctx, t.Name)
	if err != nil {
		return err
	}
	defer unlock()
	return e.applyItem(ctx, t, delivery, it)
}

// scanPrefix applies the blobs under the trigger's prefix that were not
// applied yet in their current version, one run per blob, in name order.
func (e *Engine) scanPrefix(ctx context.Context, t Trigger, delivery string) error {
	items, err := e.list(ctx, t, t.Source)
	if err != nil {
		return err
	}
	unlock, err := e.lockTrigger(ctx, t.Name)
	if err != nil {
		return err
	}
	defer unlock()
	for _, it := range items {
		if err := e.applyItem(ctx, t, delivery, it); err != nil {
			return err
		}
	}
	return nil
}

// scanWatch looks at the watched folder: a file found for the first time
// in a version is recorded as seen; one found again in the same version
// at least half the scan interval later has stopped growing, and is
// applied.
//
// A folder that cannot be read is logged, and the scan ends: the next one,
// an interval later, tries again (retrying each scan as well would pile
// up jobs while a share is down).
func (e *Engine) scanWatch(ctx context.Context, t Trigger, delivery string) error {
	items, err := e.list(ctx, t, t.Watch)
	if err != nil {
		e.Log.Error("trigger: the watched folder cannot be read; the next scan tries again", "trigger", t.Name, "folder", t.Watch, "err", err)
		return nil
	}
	unlock, err := e.lockTrigger(ctx, t.Name)
	if err != nil {
		return err
	}
	defer unlock()
	for _, it := range items {
		rec, err := e.triggerItem(ctx, t.Name, it)
		switch {
		case foyer.ErrorCode(err) == foyer.ENOTFOUND:
			if err := e.Store.InTx(ctx, func(tx store.Tx) error {
				return tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: t.Name, Item: it.Spec, Version: it.Version, State: store.ItemSeen})
			}); err != nil {
				return err
			}
			e.Log.Info("trigger: a file was found; it is applied once it stops changing", "trigger", t.Name, "file", it.Spec, "version", it.Version)
			continue
		case err != nil:
			return err
		case rec.State != store.ItemSeen:
			continue
		case e.now().Sub(rec.SeenAt) < t.WatchEvery/2:
			continue
		}
		if err := e.applyItem(ctx, t, delivery, it); err != nil {
			return err
		}
	}
	return nil
}

// list lists spec with Sources and keeps what the pattern matches, in
// name order.
func (e *Engine) list(ctx context.Context, t Trigger, spec string) ([]SourceItem, error) {
	if e.Sources == nil {
		return nil, foyer.Errorf(foyer.EINTERNAL, "trigger %s: no source reader was configured", t.Name)
	}
	all, err := e.Sources.List(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("trigger %s: %w", t.Name, err)
	}
	items := slices.DeleteFunc(all, func(it SourceItem) bool { return !t.matches(it.Spec) })
	slices.SortFunc(items, func(a, b SourceItem) int { return cmp.Compare(a.Spec, b.Spec) })
	return items, nil
}

func (e *Engine) triggerItem(ctx context.Context, trigger string, it SourceItem) (store.TriggerItem, error) {
	var rec store.TriggerItem
	err := e.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.TriggerItem(ctx, trigger, it.Spec, it.Version)
		return err
	})
	return rec, err
}

// applyItem applies one version of an input unless the ledger says it was
// applied (or failed) already, and records what became of it. An input
// that fails for good (not a CSV, too large, gone) is recorded as failed,
// with an audit entry: it is not tried again in this version, and the
// other inputs go on. Other errors are returned, to be tried again.
func (e *Engine) applyItem(ctx context.Context, t Trigger, delivery string, it SourceItem) error {
	rec, err := e.triggerItem(ctx, t.Name, it)
	switch {
	case err == nil && rec.State != store.ItemSeen:
		e.Log.Info("trigger: this version was applied already", "trigger", t.Name, "item", it.Spec, "version", it.Version, "state", rec.State, "run", rec.RunID)
		return nil
	case err != nil && foyer.ErrorCode(err) != foyer.ENOTFOUND:
		return err
	}
	var runID string
	if max := t.maxBytes(); it.Size > max {
		err = foyer.Errorf(foyer.EINVALID, "%s is %d bytes, larger than the limit of %d bytes", source.Name(it.Spec), it.Size, max)
	} else {
		runID, err = e.fire(ctx, t, it.Spec, delivery)
	}
	state, detail := store.ItemApplied, ""
	if err != nil {
		if !final(err) {
			return err
		}
		state, detail = store.ItemFailed, foyer.ErrorMessage(err)
	}
	if err := e.Store.InTx(ctx, func(tx store.Tx) error {
		if err := tx.PutTriggerItem(ctx, store.TriggerItem{Trigger: t.Name, Item: it.Spec, Version: it.Version, State: state, RunID: runID, Detail: detail}); err != nil {
			return err
		}
		if state != store.ItemFailed {
			return nil
		}
		return tx.AppendAudit(ctx, store.AuditEntry{Kind: store.AuditChange, Actor: triggerActor(t.Name), Op: "trigger failed",
			Target: t.Profile, Detail: fmt.Sprintf("trigger %s, delivery %s, %s: %s", t.Name, delivery, source.Name(it.Spec), detail)})
	}); err != nil {
		return fmt.Errorf("trigger %s: record %s: %w", t.Name, source.Name(it.Spec), err)
	}
	if state == store.ItemFailed {
		e.Log.Error("trigger failed", "trigger", t.Name, "delivery", delivery, "item", source.Name(it.Spec), "err", err)
	}
	return nil
}
