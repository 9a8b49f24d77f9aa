package chaos

import (
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Wrap returns a handler that applies Chaos to every request next serves,
// except those exempt says to leave alone (nil exempts nothing): it waits
// the drawn delay (giving up, unanswered, if the client goes away), then
// either passes the request on, or answers a 5xx or drops the connection
// instead of next (a fault before), or lets next handle the request, throws
// its answer away and answers a 5xx or drops the connection (a fault
// after).
//
// A drop hijacks the HTTP/1 connection and resets it (TCP RST), so the
// client sees "connection reset by peer" or EOF. HTTP/2 connections cannot
// be hijacked; there the handler panics with http.ErrAbortHandler, which
// resets the stream. Place Wrap inside any panic-recovering middleware, or
// let that middleware re-panic http.ErrAbortHandler.
//
// Go's http.Transport retries a request on its own when a reused HTTP/1
// connection closes before any answer and the request is idempotent (GET,
// or any request with an Idempotency-Key header): a dropped GET may
// therefore not reach the client as an error at all, as with real drops.
func (c *Chaos) Wrap(next http.Handler, exempt func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if exempt != nil && exempt(r) {
			next.ServeHTTP(w, r)
			return
		}
		c.Serve(w, r, c.Decide(), next)
	})
}

// Serve applies an Action decided for r: the per-request form of Wrap, for
// a server that decides itself which requests get chaos.
func (c *Chaos) Serve(w http.ResponseWriter, r *http.Request, a Action, next http.Handler) {
	if err := c.Wait(r.Context(), a); err != nil {
		return // the client is gone; nobody to answer
	}
	switch {
	case a.Fault == None:
		next.ServeHTTP(w, r)
		return
	case a.After:
		next.ServeHTTP(&discard{header: http.Header{}}, r)
	}
	c.WriteFault(w, r, a)
}

// WriteFault answers r as the Action's fault says: a 5xx in Graph's error
// format (or the Options' WriteError), with Retry-After on 503, or a dropped
// connection. It does nothing for an Action without a fault.
func (c *Chaos) WriteFault(w http.ResponseWriter, r *http.Request, a Action) {
	switch a.Fault {
	case Answer:
		a.SetHeaders(w.Header())
		c.writeError(w, r, a.Status, a.Code, a.Message)
	case Drop:
		drop(w)
	}
}

// SetHeaders sets Retry-After, in whole seconds rounded up, when the Action
// answers 503. For a $batch item, the server copies it into the item's
// headers.
func (a Action) SetHeaders(h http.Header) {
	if a.Fault == Answer && a.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((a.RetryAfter+999_999_999)/1e9), 10))
	}
}

// drop ends the exchange without an answer.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2: reset the stream
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close with RST, like a crashed peer
	}
	_ = raw.Close()
}

// discard is the ResponseWriter given to a handler whose answer a fault
// after will replace.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Flush()                      {}

// graphError is Graph's error body (concepts/errors.md, and the sim
// contract): {"error":{"code","message","innerError":{"date","request-id",
// "client-request-id"}}}.
type graphError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// WriteGraphError writes status with Graph's error body. The request id is
// the response's request-id header if the server already set one, else a
// new one from the seeded source; client-request-id echoes the request's,
// else repeats the request id; the date is from Options.Now, in Graph's
// form (UTC, no zone, no fraction).
func (c *Chaos) WriteGraphError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	h := w.Header()
	id := h.Get("request-id")
	if id == "" {
		id = c.newID()
		h.Set("request-id", id)
	}
	client := r.Header.Get("client-request-id")
	if client == "" {
		client = id
	}
	h.Set("client-request-id", client)
	var body graphError
	body.Error.Code, body.Error.Message = code, message
	body.Error.InnerError.Date = c.now().UTC().Format("2006-01-02T15:04:05")
	body.Error.InnerError.RequestID = id
	body.Error.InnerError.ClientRequestID = client
	b, _ := json.Marshal(body) // strings only: cannot fail
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newID returns a random version-4 UUID from the seeded source.
func (c *Chaos) newID() string {
	var b [16]byte
	c.mu.Lock()
	for i := 0; i < 16; i += 8 {
		v := c.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	c.mu.Unlock()
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// PathPrefix returns an exempt function for Wrap that exempts the requests
// whose path starts with one of the prefixes, for example "/_sim/".
func PathPrefix(prefixes ...string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(r.URL.Path, p) {
				return true
			}
		}
		return false
	}
}
