package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors of Verify, for receivers to branch on.
var (
	ErrNoSignature    = errors.New("webhook: no Foyer-Signature header")
	ErrBadHeader      = errors.New("webhook: the Foyer-Signature header does not parse")
	ErrBadSignature   = errors.New("webhook: no signature matches the body")
	ErrStaleTimestamp = errors.New("webhook: the signature's timestamp is outside the tolerance")
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
		return s, ErrNoSignature
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

// Verify checks that header signs body with secret and that its timestamp
// is within tolerance of now (DefaultTolerance when 0), which bounds
// replays; receivers should also drop repeated Idempotency-Keys. The
// comparison takes constant time. Errors wrap ErrNoSignature, ErrBadHeader,
// ErrStaleTimestamp or ErrBadSignature.
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
