package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// contentSecurityPolicy allows the server's own CSS and images, forms
// posted to itself, and nothing else: no script anywhere, no framing.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// reqInfo is what the route wrapper tells the outer middleware about a
// request: the pattern it matched, which the access log and the metrics
// name instead of the path (a path may carry a token: /r/{token}).
type reqInfo struct {
	route string
}

type infoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(infoKey{}).(*reqInfo)
	return i
}

// recorder remembers the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// outer is the middleware every answer passes: security headers, panics,
// the access log and the metrics.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.clock.Now()
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if s.opts.Secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		info := &reqInfo{}
		ip := s.clientIP(r)
		ctx := context.WithValue(r.Context(), infoKey{}, info)
		ctx = context.WithValue(ctx, ipKey{}, ip)
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic while answering", "route", routeName(info), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					ErrorPage(rec, r, http.StatusInternalServerError, "")
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			d := s.clock.Now().Sub(start)
			s.metrics.observe(routeName(info), r.Method, status, d)
			s.log.InfoContext(ctx, "http",
				"method", r.Method,
				"route", routeName(info),
				"status", status,
				"bytes", rec.bytes,
				"duration", d,
				"ip", ip.String(),
			)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

func routeName(i *reqInfo) string {
	if i.route == "" {
		return "unmatched"
	}
	return i.route
}

type ipKey struct{}

// ClientIP returns the address of the client as the server found it (the
// connection's, or the one a trusted proxy forwarded).
func ClientIP(r *http.Request) netip.Addr {
	ip, _ := r.Context().Value(ipKey{}).(netip.Addr)
	return ip
}

// clientIP finds the caller's address: the connection's, unless it is a
// trusted proxy, in which case the rightmost X-Forwarded-For entry that
// is not a trusted proxy.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	ip := remoteAddr(r.RemoteAddr)
	if !s.trusted(ip) {
		return ip
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip
		}
		hop = hop.Unmap()
		if !s.trusted(hop) {
			return hop
		}
		ip = hop
	}
	return ip
}

func (s *Server) trusted(ip netip.Addr) bool {
	for _, p := range s.opts.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func remoteAddr(a string) netip.Addr {
	host, _, err := net.SplitHostPort(a)
	if err != nil {
		host = a
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

// limitBody caps the body of a request: API calls at Limits.APIBody,
// everything else at Limits.FormBody. A declared length past the limit is
// refused at once; a body that grows past it fails to read (the handler,
// or the CSRF check for forms, answers 413).
func (s *Server) limitBody(a Access, next http.Handler) http.Handler {
	limit := s.opts.Limits.FormBody
	if a == API {
		limit = s.opts.Limits.APIBody
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			tooLarge(w, r, a, limit)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter, r *http.Request, a Access, limit int64) {
	if a == API {
		Problem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", limit))
		return
	}
	ErrorPage(w, r, http.StatusRequestEntityTooLarge, "")
}

// limitIP applies the per-address rate limit of public POSTs.
func (s *Server) limitIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, retry := s.perIP.Allow(ipKeyOf(ClientIP(r))); !ok {
			s.log.InfoContext(r.Context(), "rate limited", "limit", "ip")
			TooManyRequests(w, r, retry)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ipKeyOf is the key an address is limited under: IPv6 addresses by
// their /64, which one client usually holds whole.
func ipKeyOf(ip netip.Addr) string {
	if ip.Is6() {
		p, err := ip.Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// retryAfter is the Retry-After header's value for d: whole seconds,
// rounded up, at least 1.
func retryAfter(d time.Duration) string {
	sec := int64((d + time.Second - 1) / time.Second)
	if sec < 1 {
		sec = 1
	}
	return strconv.FormatInt(sec, 10)
}
