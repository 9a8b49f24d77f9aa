package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

// Tenant is one Entra directory the engine acts on. A profile names its
// tenant (foyer.Profile.Tenant); a run records its profile's tenant when it
// is recorded (foyer.Run.Tenant), and every step of the run acts on that
// tenant: its directory client, its verified and internal domains, its
// invitation block.
type Tenant struct {
	// Name is the tenant's name in the configuration: profiles and runs
	// name it, reports show it.
	Name string
	// ID is the Entra tenant id: a block of the tenant's invitations is
	// recorded in the ledger under it.
	ID string
	// Dir acts on the tenant, with its own credential, cloud and pacing.
	Dir directory.Directory
	// InternalDomains are the organisation's own domains beside the
	// tenant's verified ones: their addresses are employees, never asked
	// in as guests.
	InternalDomains []string
	// Calls, when set, gives the directory client's counters to /metrics,
	// labelled with the tenant's name.
	Calls CallCounter
	// Sweep is the tenant's lifecycle rules, when it has a lifecycle:
	// section: foyer serve works the jobs of a sweep released from
	// /admin/runs with them (Engine.Sweep is the CLI's, for one tenant).
	Sweep *foyer.SweepRules
	// Lifecycle is the tenant's whole lifecycle: section, as a sweep is
	// planned with it (PlanTenantSweep); with a Schedule, foyer serve
	// sweeps the tenant by itself (ScheduledSweep). Its Rules are Sweep's.
	Lifecycle *SweepConfig
}

// OneTenant is the Tenants of an engine that acts on one tenant.
func OneTenant(t *Tenant) map[string]*Tenant { return map[string]*Tenant{t.Name: t} }

// SweepRules returns the lifecycle rules the engine carries for tenant:
// the tenant's own (foyer serve), else Engine.Sweep when the engine acts
// on that tenant alone (foyer sweep). A sweep's jobs are worked only with
// them.
func (e *Engine) SweepRules(tenant string) (foyer.SweepRules, bool) {
	if t := e.Tenants[tenant]; t != nil && t.Sweep != nil {
		return *t.Sweep, true
	}
	if e.Sweep != nil && (len(e.Tenants) == 0 || len(e.Tenants) == 1 && e.Tenants[tenant] != nil) {
		return *e.Sweep, true
	}
	return foyer.SweepRules{}, false
}

// single is the tenant the single-tenant fields describe.
func (e *Engine) single() *Tenant {
	return &Tenant{Name: e.TenantName, ID: e.Tenant, Dir: e.Dir, InternalDomains: e.InternalDomains}
}

// TenantOf returns the tenant a profile acts on: the one it names, or the
// engine's only tenant. The CLI, the request intake and the triggers pick
// a profile's tenant with it.
func (e *Engine) TenantOf(profile string) (*Tenant, error) {
	name := ""
	if p := e.Profiles[profile]; p != nil {
		name = p.Tenant
	}
	t, err := e.tenantNamed(name)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", profile, err)
	}
	return t, nil
}

// runTenant returns the tenant a run acts on: the one it recorded, else
// (a run recorded before runs named their tenant) its profile's.
func (e *Engine) runTenant(run *foyer.Run) (*Tenant, error) {
	if run.Tenant != "" {
		t, err := e.tenantNamed(run.Tenant)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", run.ID, err)
		}
		return t, nil
	}
	return e.TenantOf(run.Profile)
}

// tenantFor returns the tenant of a job: the run's tenant it carries, else
// its profile's (a job enqueued before jobs carried their run's tenant).
func (e *Engine) tenantFor(runTenant, profile string) (*Tenant, error) {
	if runTenant != "" {
		return e.tenantNamed(runTenant)
	}
	return e.TenantOf(profile)
}

// tenantNamed returns the named tenant; an empty name is the only tenant,
// if there is one. The one tenant of the single-tenant fields is also
// taken for any name when it has none itself (engines built in tests).
func (e *Engine) tenantNamed(name string) (*Tenant, error) {
	if len(e.Tenants) == 0 {
		if name != "" && e.TenantName != "" && name != e.TenantName {
			return nil, foyer.Errorf(foyer.EINVALID, "tenant %q is not one foyer acts on here (%s)", name, e.TenantName)
		}
		return e.single(), nil
	}
	if t, ok := e.Tenants[name]; ok && t != nil {
		return t, nil
	}
	if name == "" && len(e.Tenants) == 1 {
		for _, t := range e.Tenants {
			return t, nil
		}
	}
	names := make([]string, 0, len(e.Tenants))
	for n := range e.Tenants {
		names = append(names, n)
	}
	slices.Sort(names)
	if name == "" {
		return nil, foyer.Errorf(foyer.EINVALID, "no tenant named, and foyer acts on several (%s)", strings.Join(names, ", "))
	}
	return nil, foyer.Errorf(foyer.EINVALID, "tenant %q is not one foyer acts on here (%s)", name, strings.Join(names, ", "))
}
