package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// KeyPrefix starts every API key, so that a key is recognisable in a
// secret scanner and told apart from an Entra token.
const KeyPrefix = "foyer_"

// keyBytes is how many random bytes a key carries.
const keyBytes = 32

// shownPrefix is how many characters of a key the ledger keeps in clear,
// to recognise it in `foyer apikeys list`: the prefix and 6 of its 43
// random characters, too few to guess the rest from.
const shownPrefix = len(KeyPrefix) + 6

// NewKey makes an API key from rnd (nil: crypto/rand): "foyer_" and 32
// random bytes in base64url. It returns the key, to show once, and what
// the ledger keeps: its hash and its first characters.
func NewKey(rnd io.Reader) (key, hash, prefix string, err error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, keyBytes)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", "", "", fmt.Errorf("make an API key: %w", err)
	}
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, HashKey(key), key[:shownPrefix], nil
}

// HashKey returns what the ledger keeps of a key: its hex SHA-256.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// looksLikeKey reports whether s has the shape of an API key, so that a
// mistyped one is refused without asking the ledger.
func looksLikeKey(s string) bool {
	rest, ok := strings.CutPrefix(s, KeyPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(keyBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}
