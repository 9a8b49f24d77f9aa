// Package engine plans and applies bulk changes: it turns rows with verdicts
// into a plan (pure: rows × what the directory and the ledger already hold),
// records the plan in the ledger, runs each row's work as a durable River job
// that writes the ledger before and after every directory call, and reports
// progress as a stream of events that the CLI renders for people or as JSON.
//
// In service mode (foyer serve) it also takes requests from the request
// page and the API (intake.go), routes them through their profile's
// approval stages with time limits (approval.go), tells people by notices
// sent as jobs (notice.go: emails to requesters and approvers, the
// members of approvers groups included; notice_channels.go: posts to
// Slack and Teams), and provisions an approved request as a run of
// one row, worked by the same jobs as a CSV's rows (service.go).
//
// It depends on the interfaces in directory, store and notify, never on their
// implementations: those are wired in cmd/foyer/cli.
package engine
