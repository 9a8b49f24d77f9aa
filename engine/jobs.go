package engine

import (
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// ProvisionArgs is the job that invites one person (if needed) and gives
// them a profile's grants. It is inserted in the same transaction that moves
// the request to provisioning and records the job as its row's (run_rows'
// job_id): a job that is no longer its row's does nothing.
type ProvisionArgs struct {
	RunID     string `json:"run_id" river:"unique"`
	RequestID string `json:"request_id" river:"unique"`
	Line      int    `json:"line"`
	// RunStarted is when the run was recorded: an invite step finished
	// since then was this run's. (Carried here so that a job never reads
	// the run, whose summary costs a pass over its rows.)
	RunStarted time.Time `json:"run_started"`
	// Tenant is the run's tenant (its name); empty in a job enqueued
	// before jobs named it, which acts on its profile's tenant.
	Tenant string `json:"tenant,omitempty"`
	// Invite says the plan found nobody at the address: the row's result is
	// invited once its work is done, whichever attempt sent the invitation.
	Invite bool `json:"invite,omitempty"`
	// Grants are the keys of the grants to give; all of the profile's for an
	// invitation, the missing ones for a guest who exists.
	Grants []string `json:"grants"`
	// Accepted says the guest had already redeemed when the plan was made.
	Accepted bool `json:"accepted,omitempty"`
	// Row overrides from the input.
	DisplayName string `json:"display_name,omitempty"`
	RedirectURL string `json:"redirect_url,omitempty"`
	Message     string `json:"message,omitempty"`
	SendEmail   string `json:"send_email,omitempty"`
	// Notify says the run provisions a request from the request page or
	// the API: its requester is told when the access is ready.
	Notify bool `json:"notify,omitempty"`
}

// Kind names the job in River.
func (ProvisionArgs) Kind() string { return "foyer.provision" }

// InsertOpts puts provisioning jobs on their own queue and makes them unique
// by run and request among live jobs, so that enqueueing a row twice
// inserts one job, and a row whose job ended without a result (cancelled
// or discarded) can be enqueued again.
func (ProvisionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       queueProvision,
		MaxAttempts: defaultMaxAttempts,
		UniqueOpts:  uniqueAmongLive(),
	}
}

// uniqueAmongLive makes a job unique by its arguments among the jobs that
// may still run: one that ended (completed, cancelled, discarded) does not
// stop the same job being enqueued again.
func uniqueAmongLive() river.UniqueOpts {
	return river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}
}

const (
	queueProvision     = "provision"
	defaultMaxAttempts = 8
)

// retryPolicy retries a failed job after 1, 2, 4, ... seconds (at most a
// minute) plus up to half as much again, spread by the job's id so that jobs
// failing together do not retry together. River's default waits attempt⁴ seconds, far too long
// for a person waiting on a command line; failures that are worth retrying
// here are throttling, faults and replication, all of which pass in seconds.
type retryPolicy struct {
	now func() time.Time
}

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	wait := time.Second << min(job.Attempt, 6)
	wait = min(wait, time.Minute)
	spread := uint64(job.ID)*2654435761 + uint64(job.Attempt)*40503
	wait += time.Duration(spread % uint64(wait/2))
	return p.now().Add(wait)
}
