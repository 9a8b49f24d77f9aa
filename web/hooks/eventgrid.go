package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

// Azure Event Grid delivers to POST /hooks/eventgrid in either of its two
// schemas:
//
//   - the Event Grid schema: a JSON array of events {id, topic, subject,
//     eventType, eventTime, data, dataVersion, metadataVersion}, with the
//     header aeg-event-type (SubscriptionValidation or Notification). A new
//     subscription first sends a Microsoft.EventGrid.SubscriptionValidationEvent,
//     answered with {"validationResponse": data.validationCode}; its
//     validationUrl is logged, for an operator to complete the handshake
//     by hand if the answer did not reach Event Grid.
//   - CloudEvents 1.0: one event (application/cloudevents+json) or a batch
//     (application/cloudevents-batch+json) {specversion, id, source,
//     subject, type, time, data}, after the abuse-protection handshake: an
//     OPTIONS request with WebHook-Request-Origin, answered with
//     WebHook-Allowed-Origin (and WebHook-Allowed-Rate).
//
// Microsoft.Storage.BlobCreated events start the run of their blob (subject
// /blobServices/default/containers/{container}/blobs/{name}; data eTag,
// contentLength, contentType, url, api, sequencer), with the trigger that
// takes events for the container and prefix, once per event id. Other
// event types are answered 200 and ignored (logged).
//
// Every request, handshakes included, is authenticated first: the key in
// the query (?key=, as the subscription's endpoint URL carries it) or an
// Entra access token (Authorization: Bearer) for foyer's app, carrying the
// configured app role. Anything else is 401, with the body unread.

// Event types and headers of Event Grid.
const (
	EventBlobCreated          = "Microsoft.Storage.BlobCreated"
	EventSubscriptionValidate = "Microsoft.EventGrid.SubscriptionValidationEvent"
	HeaderEventType           = "aeg-event-type"
	HeaderRequestOrigin       = "WebHook-Request-Origin"
	HeaderAllowedOrigin       = "WebHook-Allowed-Origin"
	HeaderAllowedRate         = "WebHook-Allowed-Rate"
)

// BlobStarter starts the run of a blob an event announced, once per
// delivery: started is false when the delivery had started it already.
// ENOTFOUND when no trigger takes the blob.
type BlobStarter interface {
	StartBlob(ctx context.Context, delivery, container, name, etag string, size int64) (trigger string, jobID int64, started bool, err error)
}

// EventGridOptions configure /hooks/eventgrid. At least one of Key and
// Tokens.
type EventGridOptions struct {
	Starter BlobStarter
	// Key is the value of the endpoint URL's key query parameter; nil
	// accepts no key. 16 bytes or more.
	Key []byte
	// Tokens validates Entra access tokens (web/api's Authenticator, for
	// foyer's app in the served tenant); nil accepts no token. Role is
	// the app role a token must carry.
	Tokens web.Authenticator
	Role   string
}

type eventGrid struct {
	o   EventGridOptions
	log *slog.Logger
}

func newEventGrid(o EventGridOptions, log *slog.Logger) (*eventGrid, error) {
	switch {
	case o.Starter == nil:
		return nil, errors.New("hooks: Event Grid needs a BlobStarter")
	case o.Key == nil && o.Tokens == nil:
		return nil, foyer.Errorf(foyer.EINVALID, "event_grid: give a key or an Entra audience")
	case o.Key != nil && len(o.Key) < 16:
		return nil, foyer.Errorf(foyer.EINVALID, "event_grid: the key is %d bytes; it needs 16 or more", len(o.Key))
	case o.Tokens != nil && o.Role == "":
		return nil, foyer.Errorf(foyer.EINVALID, "event_grid: Entra tokens need the app role they must carry")
	}
	return &eventGrid{o: o, log: log}, nil
}

func (g *eventGrid) routes() []web.Route {
	return []web.Route{
		{Method: http.MethodPost, Pattern: "/hooks/eventgrid", Access: web.Public, Handler: http.HandlerFunc(g.post)},
		{Method: http.MethodOptions, Pattern: "/hooks/eventgrid", Access: web.Public, Handler: http.HandlerFunc(g.options)},
	}
}

// authenticate returns why the request is refused, "" if it is not.
func (g *eventGrid) authenticate(r *http.Request) string {
	if k := r.URL.Query().Get("key"); k != "" {
		if g.o.Key == nil {
			return "a key was given, but Event Grid keys are not configured"
		}
		if !equalKeys([]byte(k), g.o.Key) {
			return "the key does not match"
		}
		return ""
	}
	if r.Header.Get("Authorization") == "" {
		return "no key and no token"
	}
	if g.o.Tokens == nil {
		return "a token was given, but Entra tokens are not configured"
	}
	p, err := g.o.Tokens.Authenticate(r)
	switch {
	case err != nil:
		return foyer.ErrorMessage(err)
	case p == nil:
		return "no token"
	case !slices.Contains(p.Roles, g.o.Role):
		return fmt.Sprintf("the token of %s does not carry the app role %s", p.Name, g.o.Role)
	}
	return ""
}

func (g *eventGrid) refuse(w http.ResponseWriter, r *http.Request, why string) {
	g.log.WarnContext(r.Context(), "refused an Event Grid delivery", "why", why, "method", r.Method)
	web.Problem(w, http.StatusUnauthorized, "the key or token is missing or wrong")
}

// options answers CloudEvents' abuse-protection handshake.
func (g *eventGrid) options(w http.ResponseWriter, r *http.Request) {
	if why := g.authenticate(r); why != "" {
		g.refuse(w, r, why)
		return
	}
	w.Header().Set("Allow", "POST, OPTIONS")
	if origin := strings.TrimSpace(r.Header.Get(HeaderRequestOrigin)); origin != "" {
		w.Header().Set(HeaderAllowedOrigin, origin)
		w.Header().Set(HeaderAllowedRate, "*")
		g.log.InfoContext(r.Context(), "Event Grid: allowed deliveries (CloudEvents handshake)", "origin", origin)
	}
	w.WriteHeader(http.StatusOK)
}

// event is an event in either schema: the Event Grid schema's fields and
// CloudEvents' (type, source, time, specversion).
type event struct {
	ID        string          `json:"id"`
	Subject   string          `json:"subject"`
	EventType string          `json:"eventType"`
	Type      string          `json:"type"`
	Topic     string          `json:"topic"`
	Source    string          `json:"source"`
	Spec      string          `json:"specversion"`
	Data      json.RawMessage `json:"data"`
}

func (e event) kind() string {
	if e.Type != "" {
		return e.Type
	}
	return e.EventType
}

// BlobCreatedData is the data of a Microsoft.Storage.BlobCreated event
// that foyer reads.
type BlobCreatedData struct {
	API           string `json:"api"`
	ContentType   string `json:"contentType"`
	ContentLength int64  `json:"contentLength"`
	ETag          string `json:"eTag"`
	URL           string `json:"url"`
	Sequencer     string `json:"sequencer"`
}

type validationData struct {
	ValidationCode string `json:"validationCode"`
	ValidationURL  string `json:"validationUrl"`
}

// parseEvents reads a delivery's body in either schema, by its content
// type: CloudEvents' single or batch, or the Event Grid schema's array.
// Every event needs an id and a type.
func parseEvents(contentType string, body []byte) ([]event, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	var events []event
	switch mt {
	case "application/cloudevents+json":
		var e event
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, foyer.Errorf(foyer.EINVALID, "the body is not a CloudEvents event: %v", err)
		}
		events = []event{e}
	default: // application/json (Event Grid schema) or a CloudEvents batch
		if err := json.Unmarshal(body, &events); err != nil {
			return nil, foyer.Errorf(foyer.EINVALID, "the body is not a JSON array of events: %v", err)
		}
	}
	if len(events) == 0 {
		return nil, foyer.Errorf(foyer.EINVALID, "the delivery holds no event")
	}
	for i, e := range events {
		if e.ID == "" || e.kind() == "" {
			return nil, foyer.Errorf(foyer.EINVALID, "event %d has no id or no type", i+1)
		}
		if len(e.ID) > 150 {
			return nil, foyer.Errorf(foyer.EINVALID, "event %d: the id is longer than 150 characters", i+1)
		}
	}
	return events, nil
}

// blobOf returns the container and blob name of a Blob Storage event's
// subject, /blobServices/default/containers/{c}/blobs/{name} (CloudEvents
// leave out the first slash).
func blobOf(subject string) (container, name string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(subject, "/"), "blobServices/default/containers/")
	if !ok {
		return "", "", false
	}
	container, name, ok = strings.Cut(rest, "/blobs/")
	if !ok || container == "" || name == "" {
		return "", "", false
	}
	return container, name, true
}

// eventResult is what became of one event, in the answer.
type eventResult struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Trigger string `json:"trigger,omitempty"`
	JobID   int64  `json:"job_id,omitempty"`
	Started bool   `json:"started"`
	Ignored string `json:"ignored,omitempty"` // why nothing was started
}

func (g *eventGrid) post(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if why := g.authenticate(r); why != "" {
		g.refuse(w, r, why)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			web.Problem(w, http.StatusRequestEntityTooLarge, "the body is too large: deliver fewer events a batch")
			return
		}
		web.Problem(w, http.StatusBadRequest, "the body could not be read")
		return
	}
	events, err := parseEvents(r.Header.Get("Content-Type"), body)
	if err != nil {
		g.log.WarnContext(ctx, "Event Grid: a delivery that is not events", "err", err)
		web.Problem(w, http.StatusBadRequest, foyer.ErrorMessage(err))
		return
	}
	if e := events[0]; e.kind() == EventSubscriptionValidate {
		var d validationData
		if err := json.Unmarshal(e.Data, &d); err != nil || d.ValidationCode == "" {
			web.Problem(w, http.StatusBadRequest, "the validation event has no validationCode")
			return
		}
		// The URL completes the handshake by hand (a GET within 5 minutes)
		// if this answer is lost.
		g.log.InfoContext(ctx, "Event Grid: subscription validation answered", "topic", e.Topic, "validation_url", d.ValidationURL,
			"header", r.Header.Get(HeaderEventType))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"validationResponse": d.ValidationCode})
		return
	}
	results := make([]eventResult, 0, len(events))
	for _, e := range events {
		res, err := g.event(ctx, e)
		if err != nil {
			// Event Grid delivers the batch again later: the events
			// started already are not started twice.
			g.log.ErrorContext(ctx, "Event Grid: start a blob's run", "event", e.ID, "err", err)
			web.Problem(w, web.Status(foyer.ErrorCode(err)), foyer.ErrorMessage(err))
			return
		}
		results = append(results, res)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"events": results})
}

// event starts the run of a BlobCreated event's blob.
func (g *eventGrid) event(ctx context.Context, e event) (eventResult, error) {
	res := eventResult{ID: e.ID, Type: e.kind()}
	if res.Type != EventBlobCreated {
		res.Ignored = "not a BlobCreated event"
		g.log.InfoContext(ctx, "Event Grid: event ignored", "event", e.ID, "type", res.Type, "subject", e.Subject)
		return res, nil
	}
	container, name, ok := blobOf(e.Subject)
	var d BlobCreatedData
	if err := json.Unmarshal(e.Data, &d); err != nil || !ok || d.ETag == "" {
		res.Ignored = "no blob or no eTag in the event"
		g.log.WarnContext(ctx, "Event Grid: a BlobCreated event without its blob", "event", e.ID, "subject", e.Subject)
		return res, nil
	}
	if d.API == "CreateFile" {
		// Data Lake Storage: the file is created empty; a FlushWithClose
		// event follows when its content is written.
		res.Ignored = "a Data Lake file created empty (its FlushWithClose event follows)"
		return res, nil
	}
	trigger, id, started, err := g.o.Starter.StartBlob(ctx, "eventgrid:"+e.ID, container, name, d.ETag, d.ContentLength)
	switch {
	case foyer.ErrorCode(err) == foyer.ENOTFOUND:
		res.Ignored = "no trigger takes events for this blob"
		g.log.InfoContext(ctx, "Event Grid: no trigger takes this blob", "event", e.ID, "container", container, "blob", name)
		return res, nil
	case err != nil:
		return res, err
	}
	res.Trigger, res.JobID, res.Started = trigger, id, started
	g.log.InfoContext(ctx, "Event Grid: blob created", "event", e.ID, "trigger", trigger, "container", container, "blob", name,
		"etag", d.ETag, "size", d.ContentLength, "content_type", d.ContentType, "api", d.API, "sequencer", d.Sequencer, "job", id, "started", started)
	return res, nil
}
