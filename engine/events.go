package engine

import (
	"time"

	"github.com/foyer-dev/foyer"
)

// EventKind says what happened.
type EventKind string

// Kinds of events. Human and JSON output are two views of this one stream.
const (
	EventPlanRow     EventKind = "plan_row"     // a row's verdict (plan and apply)
	EventPlanned     EventKind = "planned"      // the plan is complete; Summary has its counts
	EventRunStarted  EventKind = "run_started"  // a run was recorded (or resumed: Resumed is true)
	EventRowDone     EventKind = "row_done"     // a row's work finished; Row has its result
	EventProgress    EventKind = "progress"     // a heartbeat while rows are worked: Done of Total
	EventRunFinished EventKind = "run_finished" // every row has a result; Summary has the counts
	EventNotice      EventKind = "notice"       // something people should know; Message says it
	EventSaved       EventKind = "saved"        // the plan was saved as run RunID, to be applied later
)

// Event is one thing that happened during a plan or an apply.
type Event struct {
	Kind    EventKind
	At      time.Time
	RunID   string
	Resumed bool
	Row     *foyer.Row
	Summary *foyer.Summary
	Done    int
	Total   int
	Message string
	// GrantNames, on run_started, names the grant keys of the run's rows.
	GrantNames map[string]string
}

// Sink receives events. It is called from one goroutine at a time.
type Sink func(Event)
