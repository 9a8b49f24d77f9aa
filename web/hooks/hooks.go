// Package hooks serves the webhooks that start foyer serve's triggers:
// POST /hooks/run/{name}, signed with HMAC-SHA256 or keyed, and Azure
// Event Grid's deliveries to /hooks/eventgrid (eventgrid.go). It imports
// web, never engine: the engine satisfies Starter and BlobStarter.
// cmd/foyer/cli wires it.
package hooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/web"
)

// The signature: the sender puts the Unix time in seconds in
// X-Foyer-Timestamp, its delivery id in X-Foyer-Delivery, and
// "sha256=" and the hex HMAC-SHA256, under the trigger's secret, of
// "{timestamp}.{delivery}.{body}" in X-Foyer-Signature. The delivery id is
// signed too, so a request seen on the way cannot be replayed under
// another id; a timestamp more than Window away from now is refused, so it
// cannot be replayed later either; and the same delivery id twice starts
// one run (the engine's job is unique by delivery).
const (
	HeaderTimestamp = "X-Foyer-Timestamp"
	HeaderDelivery  = "X-Foyer-Delivery"
	HeaderSignature = "X-Foyer-Signature"
)

// DefaultWindow is how far a timestamp may be from now.
const DefaultWindow = 5 * time.Minute

// Starter starts a trigger's run for a delivery, once per delivery:
// started is false when the delivery had started it already. ENOTFOUND
// for an unknown trigger.
type Starter interface {
	StartTrigger(ctx context.Context, name, delivery string) (jobID int64, started bool, err error)
}

// Options configure the webhooks.
type Options struct {
	Starter Starter
	// Secrets are the signing secrets of the triggers that have a
	// signed webhook, by trigger name; Keys the keys of those whose
	// webhook is keyed (the sender sends Authorization: Bearer KEY). A
	// trigger in neither has no webhook.
	Secrets map[string][]byte
	Keys    map[string][]byte
	Window  time.Duration // 0: DefaultWindow
	Clock   foyer.Clock
	Log     *slog.Logger // nil discards
	// EventGrid, when set, serves /hooks/eventgrid.
	EventGrid *EventGridOptions
}

// Handler serves the webhooks.
type Handler struct {
	o  Options
	eg *eventGrid
}

// New checks the options.
func New(o Options) (*Handler, error) {
	if o.Starter == nil {
		return nil, errors.New("hooks: no Starter")
	}
	for name, s := range o.Secrets {
		if len(s) < 16 {
			return nil, foyer.Errorf(foyer.EINVALID, "trigger %s: the webhook secret is %d bytes; it needs 16 or more", name, len(s))
		}
	}
	for name, k := range o.Keys {
		if len(k) < 16 {
			return nil, foyer.Errorf(foyer.EINVALID, "trigger %s: the webhook key is %d bytes; it needs 16 or more", name, len(k))
		}
		if _, ok := o.Secrets[name]; ok {
			return nil, foyer.Errorf(foyer.EINVALID, "trigger %s: the webhook has a secret and a key; give one", name)
		}
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Clock == nil {
		o.Clock = foyer.SystemClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{o: o}
	if o.EventGrid != nil {
		eg, err := newEventGrid(*o.EventGrid, o.Log)
		if err != nil {
			return nil, err
		}
		h.eg = eg
	}
	return h, nil
}

// Routes are the webhooks' routes: Public to web (no session, no CSRF
// token: web exempts /hooks/), authenticated here by their signature.
func (h *Handler) Routes() []web.Route {
	rs := []web.Route{{Method: http.MethodPost, Pattern: "/hooks/run/{name}", Access: web.Public, Handler: http.HandlerFunc(h.run)}}
	if h.eg != nil {
		rs = append(rs, h.eg.routes()...)
	}
	return rs
}

// accepted is the answer to a delivery.
type accepted struct {
	Trigger  string `json:"trigger"`
	Delivery string `json:"delivery"`
	JobID    int64  `json:"job_id"`
	// Started is false when the delivery id was seen before: nothing new
	// was started.
	Started bool `json:"started"`
}

func (h *Handler) run(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			web.Problem(w, http.StatusRequestEntityTooLarge, "the body is too large")
			return
		}
		web.Problem(w, http.StatusBadRequest, "the body could not be read")
		return
	}
	delivery := strings.TrimSpace(r.Header.Get(HeaderDelivery))
	if why := h.verify(name, r.Header, delivery, body); why != "" {
		// The same answer whatever failed, and for a trigger that has no
		// webhook: the log says which.
		h.o.Log.WarnContext(r.Context(), "refused a webhook", "trigger", name, "why", why)
		web.Problem(w, http.StatusUnauthorized, "the signature or key is missing, wrong or too old")
		return
	}
	if delivery == "" || len(delivery) > 100 {
		web.Problem(w, http.StatusBadRequest, "X-Foyer-Delivery must hold a delivery id of 1 to 100 characters")
		return
	}
	id, started, err := h.o.Starter.StartTrigger(r.Context(), name, "hook:"+delivery)
	if err != nil {
		h.o.Log.ErrorContext(r.Context(), "start a trigger", "trigger", name, "delivery", delivery, "err", err)
		web.Problem(w, web.Status(foyer.ErrorCode(err)), foyer.ErrorMessage(err))
		return
	}
	h.o.Log.InfoContext(r.Context(), "webhook delivery", "trigger", name, "delivery", delivery, "job", id, "started", started)
	w.Header().Set("Content-Type", "application/json")
	if started {
		w.WriteHeader(http.StatusAccepted)
	}
	json.NewEncoder(w).Encode(accepted{Trigger: name, Delivery: delivery, JobID: id, Started: started})
}

// verify returns why a delivery is refused, "" if it is not.
func (h *Handler) verify(name string, hd http.Header, delivery string, body []byte) string {
	if key, ok := h.o.Keys[name]; ok {
		return checkBearer(hd, key)
	}
	secret, ok := h.o.Secrets[name]
	if !ok {
		return "no trigger of this name has a webhook"
	}
	ts := hd.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "no Unix timestamp in " + HeaderTimestamp
	}
	if d := h.o.Clock.Now().Sub(time.Unix(sec, 0)); d > h.o.Window || d < -h.o.Window {
		return "the timestamp is " + d.Round(time.Second).String() + " away from now"
	}
	hexSig, ok := strings.CutPrefix(hd.Get(HeaderSignature), "sha256=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil {
		return "no sha256= signature in " + HeaderSignature
	}
	if !hmac.Equal(got, Sign(secret, ts, delivery, body)) {
		return "the signature does not match"
	}
	return ""
}

// Sign returns the HMAC-SHA256 a sender puts, in hex after "sha256=", in
// X-Foyer-Signature.
func Sign(secret []byte, timestamp, delivery string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp + "." + delivery + "."))
	m.Write(body)
	return m.Sum(nil)
}

// checkBearer returns why the Authorization header does not carry key as
// a Bearer credential, "" if it does. The comparison takes the same time
// whatever the key given (both are hashed first, so not even the length
// shows).
func checkBearer(hd http.Header, key []byte) string {
	scheme, cred, _ := strings.Cut(strings.TrimSpace(hd.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(cred) == "" {
		return "no Bearer key in Authorization"
	}
	if !equalKeys([]byte(strings.TrimSpace(cred)), key) {
		return "the key does not match"
	}
	return ""
}

// equalKeys compares two keys in constant time.
func equalKeys(a, b []byte) bool {
	ha, hb := sha256.Sum256(a), sha256.Sum256(b)
	return hmac.Equal(ha[:], hb[:])
}
