package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The side door: JSON endpoints under /_sim/ for tests and demos, without
// authentication (the server listens on loopback only). Errors are
// {"error":"..."}. docs/sim.md lists them with examples.

type sideRoute struct {
	method, path string
	handle       func(s *Server, r *http.Request, body []byte) (int, any, error)
}

var sideRoutes = []sideRoute{
	{http.MethodGet, "stats", func(s *Server, _ *http.Request, _ []byte) (int, any, error) { return 200, s.Stats(), nil }},
	{http.MethodGet, "state", func(s *Server, _ *http.Request, _ []byte) (int, any, error) { return 200, s.Snapshot(), nil }},
	{http.MethodGet, "mail", sideMail},
	{http.MethodGet, "settings", func(s *Server, _ *http.Request, _ []byte) (int, any, error) { return 200, s.Settings(), nil }},
	{http.MethodPut, "settings", sideSettings},
	{http.MethodGet, "clock", func(s *Server, _ *http.Request, _ []byte) (int, any, error) {
		return 200, map[string]any{"now": s.Now()}, nil
	}},
	{http.MethodPost, "clock", sideClock},
	{http.MethodPost, "redeem", sideRedeem},
	{http.MethodPost, "delta/expire", func(s *Server, _ *http.Request, _ []byte) (int, any, error) {
		s.ExpireDeltaTokens()
		return 200, map[string]string{"status": "expired"}, nil
	}},
	{http.MethodPost, "signin", sideSignIn},
	{http.MethodPost, "account", sideAccount},
	{http.MethodPost, "sponsors", sideSponsors},
	{http.MethodPost, "reset", func(s *Server, _ *http.Request, _ []byte) (int, any, error) {
		return 200, map[string]string{"status": "reset"}, s.Reset()
	}},
	{http.MethodPost, "seed", sideSeed(func(d *SeedData, b []byte) error { return json.Unmarshal(b, d) })},
	{http.MethodPost, "users", sideSeed(func(d *SeedData, b []byte) error { return oneOrMany(b, &d.Users) })},
	{http.MethodPost, "groups", sideSeed(func(d *SeedData, b []byte) error { return oneOrMany(b, &d.Groups) })},
	{http.MethodPost, "domains", sideSeed(func(d *SeedData, b []byte) error { return oneOrMany(b, &d.Domains) })},
	{http.MethodPost, "skus", sideSeed(func(d *SeedData, b []byte) error { return oneOrMany(b, &d.SKUs) })},
	{http.MethodPost, "servicePrincipals", sideSeed(func(d *SeedData, b []byte) error { return oneOrMany(b, &d.ServicePrincipals) })},
	{http.MethodPost, "subscriptions", sideSeed(func(d *SeedData, b []byte) error { return oneOrMany(b, &d.Subscriptions) })},
	{http.MethodPost, "apps", sideSeed(func(d *SeedData, b []byte) error { return oneOrMany(b, &d.Apps) })},
	{http.MethodPost, "guests/bulk", sideBulk},
	{http.MethodPost, "lifecycle_policies", sideLifecyclePolicy},
	{http.MethodPost, "lifecycle_policies/delete", sideLifecyclePolicyDelete},
	{http.MethodGet, "ca.pem", nil},
}

func (s *Server) serveSideDoor(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, "/_sim"), "/")
	if path == "ca.pem" && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(s.CAPEM())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		writeSide(w, http.StatusBadRequest, nil, fmt.Errorf("read body: %w", err))
		return
	}
	known := false
	for _, rt := range sideRoutes {
		if !strings.EqualFold(rt.path, path) {
			continue
		}
		known = true
		if rt.method == r.Method && rt.handle != nil {
			status, v, err := rt.handle(s, r, body)
			writeSide(w, status, v, err)
			return
		}
	}
	if known {
		writeSide(w, http.StatusMethodNotAllowed, nil, fmt.Errorf("%s /_sim/%s is not served", r.Method, path))
		return
	}
	writeSide(w, http.StatusNotFound, nil, fmt.Errorf("no side-door endpoint /_sim/%s (see docs/sim.md)", path))
}

func writeSide(w http.ResponseWriter, status int, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		if status < 400 {
			status = http.StatusBadRequest
			if errors.Is(err, ErrNoInvitation) {
				status = http.StatusNotFound
			}
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// oneOrMany decodes a JSON object or an array of them into *[]T.
func oneOrMany[T any](b []byte, dst *[]T) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		return strictJSON(b, dst)
	}
	var one T
	if err := strictJSON(b, &one); err != nil {
		return err
	}
	*dst = append(*dst, one)
	return nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func sideSeed(fill func(*SeedData, []byte) error) func(*Server, *http.Request, []byte) (int, any, error) {
	return func(s *Server, _ *http.Request, b []byte) (int, any, error) {
		var d SeedData
		if err := fill(&d, b); err != nil {
			return 400, nil, fmt.Errorf("body: %w", err)
		}
		out, err := s.Seed(d)
		if err != nil {
			return 400, nil, err
		}
		return http.StatusCreated, out, nil
	}
}

func sideMail(s *Server, r *http.Request, _ []byte) (int, any, error) {
	to := strings.ToLower(r.URL.Query().Get("to"))
	out := []Mail{}
	for _, m := range s.Mail() {
		if to == "" || strings.EqualFold(m.To, to) {
			out = append(out, m)
		}
	}
	return 200, out, nil
}

func sideSettings(s *Server, _ *http.Request, b []byte) (int, any, error) {
	v := s.Settings()
	if err := json.Unmarshal(b, &v); err != nil {
		return 400, nil, err
	}
	if err := s.SetSettings(v); err != nil {
		return 400, nil, err
	}
	return 200, s.Settings(), nil
}

func sideClock(s *Server, _ *http.Request, b []byte) (int, any, error) {
	var in struct {
		Advance string `json:"advance"`
	}
	if err := strictJSON(b, &in); err != nil {
		return 400, nil, fmt.Errorf("body: %w", err)
	}
	d, err := time.ParseDuration(in.Advance)
	if err != nil || d < 0 {
		return 400, nil, fmt.Errorf("advance %q: want a positive duration such as 24h", in.Advance)
	}
	s.Advance(d)
	return 200, map[string]any{"now": s.Now()}, nil
}

func sideRedeem(s *Server, _ *http.Request, b []byte) (int, any, error) {
	var in struct {
		Email string `json:"email"`
	}
	if err := strictJSON(b, &in); err != nil || in.Email == "" {
		return 400, nil, fmt.Errorf(`body: want {"email":"..."}`)
	}
	u, err := s.redeemAddress(s.def, in.Email)
	if err != nil {
		return 404, nil, err
	}
	return 200, map[string]string{"id": u.id, "externalUserState": u.ExternalUserState}, nil
}

func sideSignIn(s *Server, _ *http.Request, b []byte) (int, any, error) {
	in := struct {
		Email       string    `json:"email"`
		ID          string    `json:"id"`
		At          time.Time `json:"at"`
		Interactive *bool     `json:"interactive"`
	}{}
	if err := strictJSON(b, &in); err != nil {
		return 400, nil, fmt.Errorf("body: %w", err)
	}
	key := in.ID
	if key == "" {
		key = in.Email
	}
	if err := s.SignIn(key, in.At, in.Interactive == nil || *in.Interactive); err != nil {
		return 404, nil, err
	}
	return 200, map[string]string{"status": "signed in"}, nil
}

func sideAccount(s *Server, _ *http.Request, b []byte) (int, any, error) {
	var in struct {
		Email   string `json:"email"`
		ID      string `json:"id"`
		Enabled *bool  `json:"enabled"`
	}
	if err := strictJSON(b, &in); err != nil || in.Enabled == nil || (in.ID == "" && in.Email == "") {
		return 400, nil, fmt.Errorf(`body: want {"id":"..." or "email":"...", "enabled": true or false}`)
	}
	key := in.ID
	if key == "" {
		key = in.Email
	}
	if err := s.SetAccountEnabled(key, *in.Enabled); err != nil {
		return 404, nil, err
	}
	return 200, map[string]any{"enabled": *in.Enabled}, nil
}

func sideSponsors(s *Server, _ *http.Request, b []byte) (int, any, error) {
	var in struct {
		User     string   `json:"user"`
		Sponsors []string `json:"sponsors"`
	}
	if err := strictJSON(b, &in); err != nil || in.User == "" || len(in.Sponsors) == 0 {
		return 400, nil, fmt.Errorf(`body: want {"user":"id or userPrincipalName", "sponsors":["user or group id", ...]}`)
	}
	if err := s.AddSponsors(in.User, in.Sponsors...); err != nil {
		return 404, nil, err
	}
	return 200, map[string]any{"user": in.User, "sponsors": in.Sponsors}, nil
}

func sideBulk(s *Server, _ *http.Request, b []byte) (int, any, error) {
	var in BulkGuests
	if err := strictJSON(b, &in); err != nil {
		return 400, nil, fmt.Errorf("body: %w", err)
	}
	n, err := s.AddGuests(in)
	if err != nil {
		return 400, nil, err
	}
	return http.StatusCreated, map[string]int{"added": n}, nil
}
