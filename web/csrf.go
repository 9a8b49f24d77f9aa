package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
)

// CSRF: every browser gets a cookie holding a random secret and its HMAC
// under the server's key (so a cookie planted by a sibling subdomain is
// refused), and every form a hidden field "csrf" holding another HMAC of
// that secret. A POST passes when the field matches the cookie. The form
// token is not the cookie's value, so the cookie stays HttpOnly.

const csrfField = "csrf"

type csrf struct {
	key    []byte
	secure bool
}

type csrfKey struct{}

// cookieName is __Host- prefixed when Secure, which browsers only accept
// from https, for the path /, without a Domain.
func (c csrf) cookieName() string {
	if c.secure {
		return "__Host-foyer_csrf"
	}
	return "foyer_csrf"
}

func (c csrf) mac(purpose string, secret []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("foyer csrf " + purpose + "\x00"))
	m.Write(secret)
	return m.Sum(nil)
}

// secret reads the cookie's secret; nil if absent or not signed by us.
func (c csrf) secret(r *http.Request) []byte {
	ck, err := r.Cookie(c.cookieName())
	if err != nil {
		return nil
	}
	val, sig, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return nil
	}
	secret, err1 := base64.RawURLEncoding.DecodeString(val)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || len(secret) != 32 || !hmac.Equal(mac, c.mac("cookie", secret)) {
		return nil
	}
	return secret
}

// issue makes sure the browser holds a CSRF cookie and puts the form token
// in the request's context for CSRFToken.
func (c csrf) issue(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret := c.secret(r)
		if secret == nil {
			secret = make([]byte, 32)
			if _, err := rand.Read(secret); err != nil {
				log.ErrorContext(r.Context(), "make a CSRF secret", "err", err)
				ErrorPage(w, r, http.StatusInternalServerError, "")
				return
			}
			http.SetCookie(w, &http.Cookie{
				Name:     c.cookieName(),
				Value:    base64.RawURLEncoding.EncodeToString(secret) + "." + base64.RawURLEncoding.EncodeToString(c.mac("cookie", secret)),
				Path:     "/",
				HttpOnly: true,
				Secure:   c.secure,
				SameSite: http.SameSiteLaxMode,
			})
		}
		token := base64.RawURLEncoding.EncodeToString(c.mac("form", secret))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey{}, token)))
	})
}

// check refuses a form whose csrf field does not match the cookie, with a
// 403 page; a body past its limit gets 413.
func (c csrf) check(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			if errTooLarge(err) {
				ErrorPage(w, r, http.StatusRequestEntityTooLarge, "")
				return
			}
			ErrorPage(w, r, http.StatusBadRequest, "")
			return
		}
		want := CSRFToken(r)
		got := r.PostForm.Get(csrfField)
		if want == "" || !hmac.Equal([]byte(got), []byte(want)) {
			log.InfoContext(r.Context(), "refused a form without a matching CSRF token")
			ErrorPage(w, r, http.StatusForbidden, msgCSRF)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CSRFToken returns the token a form must carry in its hidden field
// "csrf" to be accepted; "" outside the server's routes.
func CSRFToken(r *http.Request) string {
	t, _ := r.Context().Value(csrfKey{}).(string)
	return t
}
