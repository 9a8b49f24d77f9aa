package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/store"
	"github.com/foyer-dev/foyer/web"
)

// invitationBody is POST /api/v1/invitations's body. Its JSON encoding,
// fields in this order and answers by key, is the canonical body whose
// hash an Idempotency-Key is held to.
type invitationBody struct {
	Email         string            `json:"email"`
	DisplayName   string            `json:"display_name"`
	Profile       string            `json:"profile"`
	Company       string            `json:"company,omitempty"`
	Justification string            `json:"justification,omitempty"`
	Sponsor       string            `json:"sponsor,omitempty"`
	Answers       map[string]string `json:"answers,omitempty"`
}

// Limits on the fields of an invitation, in characters.
const (
	maxName          = 256
	maxCompany       = 200
	maxJustification = 2000
	maxAnswer        = 2000
	maxAnswers       = 50
	maxIdemKey       = 255
)

var answerKey = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// hash returns the hex SHA-256 of b's canonical encoding: the same call
// with other whitespace or another key order hashes the same.
func (b *invitationBody) hash() string {
	enc, err := json.Marshal(b)
	if err != nil {
		panic("api: encode an invitation: " + err.Error()) // strings and a map of strings always encode
	}
	sum := sha256.Sum256(enc)
	return hex.EncodeToString(sum[:])
}

// badBody is a body that could not be read: too large, not JSON.
type badBody struct {
	status int
	kind   string
	detail string
	errs   []fieldError
}

// decodeInvitation reads and checks a body, naming every bad field at once.
func (h *Handler) decodeInvitation(w http.ResponseWriter, r *http.Request) (*invitationBody, *badBody) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, &badBody{http.StatusUnsupportedMediaType, problemMediaType, "send the body as application/json", nil}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &badBody{http.StatusRequestEntityTooLarge, problemTooLarge, fmt.Sprintf("the body is larger than %d bytes", h.maxBody), nil}
		}
		return nil, &badBody{http.StatusBadRequest, foyer.EINVALID, "the body could not be read", nil}
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, &badBody{http.StatusBadRequest, foyer.EINVALID, "the body is not a JSON object", nil}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &badBody{http.StatusBadRequest, foyer.EINVALID, "the body has more after its JSON object", nil}
	}
	var b invitationBody
	targets := map[string]any{
		"email": &b.Email, "display_name": &b.DisplayName, "profile": &b.Profile, "company": &b.Company,
		"justification": &b.Justification, "sponsor": &b.Sponsor, "answers": &b.Answers,
	}
	var errs []fieldError
	mistyped := make(map[string]bool)
	for _, name := range sortedKeys(fields) {
		target, ok := targets[name]
		if !ok {
			errs = append(errs, fieldError{name, "unknown field"})
			continue
		}
		if err := json.Unmarshal(fields[name], target); err != nil {
			want := "a string"
			if name == "answers" {
				want = "an object of strings"
			}
			errs = append(errs, fieldError{name, "want " + want})
			mistyped[name] = true
		}
	}
	errs = append(errs, b.check(fields, mistyped)...)
	if len(errs) > 0 {
		return nil, &badBody{http.StatusBadRequest, foyer.EINVALID, "the invitation has bad fields", errs}
	}
	b.Email, b.DisplayName, b.Profile = strings.TrimSpace(b.Email), strings.TrimSpace(b.DisplayName), strings.TrimSpace(b.Profile)
	return &b, nil
}

// check says what is wrong with b's values. present lists the fields that
// were given and mistyped those already refused for their type, which are
// not checked again.
func (b *invitationBody) check(present map[string]json.RawMessage, mistyped map[string]bool) []fieldError {
	var errs []fieldError
	required := func(name, v string) bool {
		if mistyped[name] {
			return false
		}
		if _, ok := present[name]; ok && strings.TrimSpace(v) == "" {
			errs = append(errs, fieldError{name, "must not be empty"})
			return false
		} else if !ok {
			errs = append(errs, fieldError{name, "is required"})
			return false
		}
		return true
	}
	if required("email", b.Email) {
		if _, err := foyer.ParseAddress(b.Email); err != nil {
			errs = append(errs, fieldError{"email", foyer.ErrorMessage(err)})
		}
	}
	if required("display_name", b.DisplayName) {
		errs = appendText(errs, "display_name", b.DisplayName, maxName, false)
	}
	if required("profile", b.Profile) {
		errs = appendText(errs, "profile", b.Profile, maxName, false)
	}
	errs = appendText(errs, "company", b.Company, maxCompany, false)
	errs = appendText(errs, "justification", b.Justification, maxJustification, true)
	errs = appendText(errs, "sponsor", b.Sponsor, maxName, false)
	if len(b.Answers) > maxAnswers {
		errs = append(errs, fieldError{"answers", fmt.Sprintf("at most %d answers", maxAnswers)})
	}
	for _, k := range sortedKeys(b.Answers) {
		if !answerKey.MatchString(k) {
			errs = append(errs, fieldError{"answers." + k, "a question id is lowercase letters, digits and _"})
			continue
		}
		errs = appendText(errs, "answers."+k, b.Answers[k], maxAnswer, true)
	}
	return errs
}

// appendText checks a free-text field: valid UTF-8, at most max
// characters, no control characters (newlines only where multiline).
func appendText(errs []fieldError, name, v string, max int, multiline bool) []fieldError {
	switch {
	case !utf8.ValidString(v):
		return append(errs, fieldError{name, "is not valid UTF-8"})
	case utf8.RuneCountInString(v) > max:
		return append(errs, fieldError{name, fmt.Sprintf("is longer than %d characters", max)})
	}
	for _, c := range v {
		if unicode.IsControl(c) && !(multiline && (c == '\n' || c == '\r' || c == '\t')) {
			return append(errs, fieldError{name, "has a control character"})
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkIdempotencyKey checks the Idempotency-Key header: 1 to 255 visible
// ASCII characters.
func checkIdempotencyKey(k string) string {
	if len(k) > maxIdemKey {
		return fmt.Sprintf("is longer than %d characters", maxIdemKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "may hold only visible ASCII characters"
		}
	}
	return ""
}

func (h *Handler) postInvitation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := web.PrincipalFrom(ctx)
	key := r.Header.Get("Idempotency-Key")
	if _, given := r.Header["Idempotency-Key"]; given {
		if msg := checkIdempotencyKey(key); msg != "" || key == "" {
			if msg == "" {
				msg = "must not be empty"
			}
			writeProblem(w, http.StatusBadRequest, foyer.EINVALID, "the Idempotency-Key header is bad", []fieldError{{"Idempotency-Key", msg}})
			return
		}
	}
	b, bad := h.decodeInvitation(w, r)
	if bad != nil {
		writeProblem(w, bad.status, bad.kind, bad.detail, bad.errs)
		return
	}
	hash := b.hash()
	if key != "" && h.replay(w, r, p, key, hash) {
		return
	}
	sub := foyer.Submission{
		Profile: b.Profile, Email: b.Email, DisplayName: b.DisplayName,
		Details: foyer.Details{Company: b.Company, Justification: b.Justification, Answers: b.Answers, Sponsor: b.Sponsor, RequestedBy: p.ID},
		Origin:  foyer.OriginAPI, By: p, IdempotencyKey: key, BodyHash: hash,
	}
	rec, err := h.intake.Submit(ctx, sub)
	if err != nil {
		// Two calls with one key may race past replay: the engine refuses
		// the second, and the key now says which body it was for.
		if key != "" && foyer.ErrorCode(err) == foyer.ECONFLICT && h.replay(w, r, p, key, hash) {
			return
		}
		h.writeError(w, r, "submit an invitation", err)
		return
	}
	h.log.InfoContext(ctx, "api: invitation", "request", rec.Request.ID, "profile", rec.Request.Profile, "by", p.ID, "again", rec.Again)
	writeAccepted(w, rec.Request, rec.Again)
}

// replay answers a call whose Idempotency-Key the client used before: the
// same request if the body is the same, 422 if it is another. It reports
// whether it answered.
func (h *Handler) replay(w http.ResponseWriter, r *http.Request, p *foyer.Principal, key, hash string) bool {
	ctx := r.Context()
	var k store.IdempotencyKey
	err := h.ledger.InTx(ctx, func(tx store.Tx) error {
		var err error
		k, err = tx.IdempotencyKeyOf(ctx, p.ID, key)
		return err
	})
	switch {
	case foyer.ErrorCode(err) == foyer.ENOTFOUND:
		return false
	case err != nil:
		h.writeError(w, r, "read an idempotency key", fmt.Errorf("read idempotency key of %s: %w", p.ID, err))
		return true
	case k.BodyHash != hash:
		writeProblem(w, http.StatusUnprocessableEntity, problemIdempotency,
			"this Idempotency-Key was used with another body; use a new key for another invitation", []fieldError{{"Idempotency-Key", "used with another body"}})
		return true
	}
	v, err := h.intake.View(ctx, k.RequestID)
	if err != nil {
		h.writeError(w, r, "read the request of an idempotency key", err)
		return true
	}
	w.Header().Set("Idempotent-Replayed", "true")
	writeAccepted(w, v.Request, true)
	return true
}

func writeAccepted(w http.ResponseWriter, req *foyer.Request, again bool) {
	w.Header().Set("Location", requestPath(req.ID))
	out := invitationJSON{requestJSON: requestOf(req), Again: again}
	writeJSON(w, http.StatusAccepted, out)
}
