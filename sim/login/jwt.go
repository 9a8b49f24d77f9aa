package login

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// maxJWT bounds the tokens and assertions we parse. Entra's own tokens are a
// few kilobytes; a certificate chain in x5c can add a few more.
const maxJWT = 16 << 10

// errNoDots is a token with no dots at all: not even shaped like a JWT.
var errNoDots = errors.New("JWT is not well formed, there are no dots (.)")

// jwtHeader is the JOSE header of a compact JWS (RFC 7515 §4).
type jwtHeader struct {
	Alg     string          `json:"alg"`
	Typ     string          `json:"typ,omitempty"`
	Kid     string          `json:"kid,omitempty"`
	X5t     string          `json:"x5t,omitempty"`
	X5tS256 string          `json:"x5t#S256,omitempty"`
	X5c     []string        `json:"x5c,omitempty"`
	Crit    json.RawMessage `json:"crit,omitempty"`
}

// jws is a parsed, not yet verified, compact JWS.
type jws struct {
	header    jwtHeader
	payload   []byte // decoded JSON
	signed    string // the signing input: header "." payload, as received
	signature []byte
}

// parseJWS splits and decodes a compact JWS (RFC 7515 §7.1). It checks form
// only: the signature is checked by verify.
func parseJWS(token string) (*jws, error) {
	if len(token) > maxJWT {
		return nil, fmt.Errorf("token is %d bytes, more than %d", len(token), maxJWT)
	}
	h, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, errNoDots
	}
	p, s, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(s, ".") {
		return nil, errors.New("a JWS has exactly three parts")
	}
	if h == "" || p == "" || s == "" {
		return nil, errors.New("a JWS part is empty")
	}
	hb, err := base64.RawURLEncoding.Strict().DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("header is not base64url: %w", err)
	}
	var j jws
	if err := decodeObject(hb, &j.header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if j.header.Alg == "" {
		return nil, errors.New("header has no alg")
	}
	if len(j.header.Crit) > 0 {
		return nil, errors.New("header has crit parameters, none of which are understood")
	}
	if j.payload, err = base64.RawURLEncoding.Strict().DecodeString(p); err != nil {
		return nil, fmt.Errorf("payload is not base64url: %w", err)
	}
	if j.signature, err = base64.RawURLEncoding.Strict().DecodeString(s); err != nil {
		return nil, fmt.Errorf("signature is not base64url: %w", err)
	}
	j.signed = token[:len(h)+1+len(p)]
	return &j, nil
}

// decodeObject decodes one JSON object, and nothing after it, into v.
func decodeObject(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON object")
	}
	return nil
}

// claims decodes the payload into v.
func (j *jws) claims(v any) error {
	if err := decodeObject(j.payload, v); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	return nil
}

// verify checks the signature with an RSA key: RS256 (RSASSA-PKCS1-v1_5) or
// PS256 (RSASSA-PSS), the two algorithms Entra and MSAL use.
func (j *jws) verify(pub *rsa.PublicKey) error {
	digest := sha256.Sum256([]byte(j.signed))
	switch j.header.Alg {
	case "RS256":
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], j.signature)
	case "PS256":
		return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], j.signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256})
	}
	return fmt.Errorf("algorithm %q is not supported", j.header.Alg)
}

// signRS256 encodes header and claims and signs them with key.
func signRS256(key *rsa.PrivateKey, header jwtHeader, claims any) (string, error) {
	header.Alg = "RS256"
	hb, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("encode JWT header: %w", err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode JWT claims: %w", err)
	}
	var sb strings.Builder
	enc := base64.RawURLEncoding
	sb.Grow(enc.EncodedLen(len(hb)) + enc.EncodedLen(len(cb)) + 2 + enc.EncodedLen(key.Size()))
	sb.WriteString(enc.EncodeToString(hb))
	sb.WriteByte('.')
	sb.WriteString(enc.EncodeToString(cb))
	digest := sha256.Sum256([]byte(sb.String()))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign JWT: %w", err)
	}
	sb.WriteByte('.')
	sb.WriteString(enc.EncodeToString(sig))
	return sb.String(), nil
}

// numericDate is a JWT NumericDate (RFC 7519 §2): seconds since the epoch,
// possibly with a fraction, which we drop.
type numericDate int64

func (d *numericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("a NumericDate is a number: %w", err)
	}
	if math.IsNaN(f) || f < 0 || f > 1<<40 {
		return fmt.Errorf("NumericDate %v is out of range", f)
	}
	*d = numericDate(f)
	return nil
}

func (d numericDate) time() time.Time { return time.Unix(int64(d), 0).UTC() }

func dateOf(t time.Time) numericDate { return numericDate(t.Unix()) }

// audience is the aud claim: one string or an array of them (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

// decodeThumbprint reads an x5t or x5t#S256 header value. RFC 7515 says
// base64url, but MSAL Go writes standard base64 with padding
// (apps/internal/oauth/ops/accesstokens/accesstokens.go, Credential.JWT), and
// Entra accepts both, so we do too.
func decodeThumbprint(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}
