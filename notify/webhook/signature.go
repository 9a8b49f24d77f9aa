package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors of Verify and VerifyRequest, for receivers to branch on.
var (
	ErrNoSignature    = errors.New("webhook: no signature header")
	ErrBadHeader      = errors.New("webhook: a signature header does not parse")
	ErrBadSignature   = errors.New("webhook: no signature matches the delivery")
	ErrStaleTimestamp = errors.New("webhook: the signature's timestamp is outside the tolerance")
	// ErrIDMismatch: the signed webhook-id differs from the body's "id" or
	// from the Idempotency-Key header, which no delivery of foyer's does.
	ErrIDMismatch = errors.New("webhook: the delivery's ids disagree")
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock when Verify is given 0.
const DefaultTolerance = 5 * time.Minute

// Sign returns the Foyer-Signature header for body sent at t:
// "t=<unix seconds>,v1=<hex of HMAC-SHA256(secret, "<unix seconds>." + body)>".
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Signature is a parsed Foyer-Signature header.
type Signature struct {
	Timestamp int64    // unix seconds, as sent
	V1        [][]byte // the v1 MACs; more than one while a secret is rotated
}

// ParseSignature reads a Foyer-Signature header: comma-separated key=value
// pairs with exactly one t and at least one v1; other keys are ignored, so
// that later schemes can be added beside v1.
func ParseSignature(header string) (Signature, error) {
	var s Signature
	if strings.TrimSpace(header) == "" {
		return s, fmt.Errorf("%w: %s", ErrNoSignature, HeaderSignature)
	}
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Signature{}, fmt.Errorf("%w: %q is not key=value", ErrBadHeader, clip(part))
		}
		switch k {
		case "t":
			ts, err := strconv.ParseInt(v, 10, 64)
			if err != nil || seenT || ts <= 0 {
				return Signature{}, fmt.Errorf("%w: bad or repeated timestamp", ErrBadHeader)
			}
			s.Timestamp, seenT = ts, true
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return Signature{}, fmt.Errorf("%w: v1 is not %d hex bytes", ErrBadHeader, sha256.Size)
			}
			s.V1 = append(s.V1, b)
		}
	}
	if !seenT || len(s.V1) == 0 {
		return Signature{}, fmt.Errorf("%w: want t=… and v1=…", ErrBadHeader)
	}
	return s, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Verify checks that header, a Foyer-Signature, signs body with secret and
// that its timestamp is within tolerance of now (DefaultTolerance when 0),
// which bounds replays. It proves the body, and so the body's "id", which
// is what to drop repeats by; it proves no other header (the
// Idempotency-Key header is not signed). VerifyRequest also proves the
// webhook-id header and returns the id. The comparison takes constant
// time. Errors wrap ErrNoSignature, ErrBadHeader, ErrStaleTimestamp or
// ErrBadSignature.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	sig, err := ParseSignature(header)
	if err != nil {
		return err
	}
	sent := time.Unix(sig.Timestamp, 0)
	if d := now.Sub(sent); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: sent %s, now %s", ErrStaleTimestamp, sent.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	want := mac(secret, strconv.FormatInt(sig.Timestamp, 10), body)
	for _, got := range sig.V1 {
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}

// SignStandard returns the webhook-signature header of Standard Webhooks
// (github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md)
// for the delivery id sent at t with body: "v1," and the base64 of
// HMAC-SHA256(secret, id + "." + unix seconds + "." + body). The id is
// signed, so a receiver can trust it as an idempotency key.
func SignStandard(secret []byte, id string, t time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(standardMAC(secret, id, strconv.FormatInt(t.Unix(), 10), body))
}

func standardMAC(secret []byte, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// maxIDLen bounds the webhook-id a receiver accepts; foyer's are far
// shorter.
const maxIDLen = 255

// VerifyRequest checks a delivery the Standard Webhooks way and returns
// its id, the value to drop repeats by: the webhook-id and
// webhook-timestamp headers and the body must be signed by one of the v1
// signatures in webhook-signature (there may be two while a secret is
// rotated), the timestamp must be within tolerance of now
// (DefaultTolerance when 0), and the id must be the body's "id" and, when
// the Idempotency-Key header is present, equal to it. A delivery whose id
// was changed without signing it again fails. Comparisons of signatures
// take constant time. Errors wrap ErrNoSignature, ErrBadHeader,
// ErrStaleTimestamp, ErrBadSignature or ErrIDMismatch.
func VerifyRequest(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) (string, error) {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	sigs := strings.Fields(h.Get(HeaderWebhookSignature))
	if len(sigs) == 0 {
		return "", fmt.Errorf("%w: %s", ErrNoSignature, HeaderWebhookSignature)
	}
	id := h.Get(HeaderWebhookID)
	if id == "" || len(id) > maxIDLen || strings.ContainsAny(id, ". \t") {
		return "", fmt.Errorf("%w: %s %q is not an id", ErrBadHeader, HeaderWebhookID, clip(id))
	}
	ts := h.Get(HeaderWebhookTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 || strconv.FormatInt(sec, 10) != ts {
		return "", fmt.Errorf("%w: %s %q is not unix seconds", ErrBadHeader, HeaderWebhookTimestamp, clip(ts))
	}
	sent := time.Unix(sec, 0)
	if d := now.Sub(sent); d > tolerance || d < -tolerance {
		return "", fmt.Errorf("%w: sent %s, now %s", ErrStaleTimestamp, sent.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	want := standardMAC(secret, id, ts, body)
	matched, v1 := false, 0
	for _, sig := range sigs {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue // another scheme (v1a: asymmetric) or a malformed entry
		}
		v1++
		// Strict: a signature has one encoding, so a receiver that compares
		// the text (as some Standard Webhooks libraries do) agrees.
		got, err := base64.StdEncoding.Strict().DecodeString(value)
		if err == nil && hmac.Equal(got, want) {
			matched = true
		}
	}
	switch {
	case v1 == 0:
		return "", fmt.Errorf("%w: %s has no v1 signature", ErrBadHeader, HeaderWebhookSignature)
	case !matched:
		return "", ErrBadSignature
	}
	var ev struct {
		ID *string `json:"id"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&ev); err != nil || ev.ID == nil {
		return "", fmt.Errorf("%w: the body has no \"id\"", ErrIDMismatch)
	}
	if *ev.ID != id {
		return "", fmt.Errorf("%w: %s %q, body id %q", ErrIDMismatch, HeaderWebhookID, id, clip(*ev.ID))
	}
	if k := h.Values(HeaderIdempotency); len(k) > 0 && (len(k) > 1 || k[0] != id) {
		return "", fmt.Errorf("%w: %s %q, %s %q", ErrIDMismatch, HeaderWebhookID, id, HeaderIdempotency, clip(strings.Join(k, ",")))
	}
	return id, nil
}
