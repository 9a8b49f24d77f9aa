package sim

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/foyer-dev/foyer/sim/chaos"
	"github.com/foyer-dev/foyer/sim/throttle"
)

// Settings are the behaviour models that can change while the tenant runs
// (GET and PUT /_sim/settings). In JSON each is written in the flag syntax
// of `foyer sim`: {"latency":"100ms,400ms","faults":"0.05",
// "throttle":"published","replication_delay":"2s","invites_per_minute":10,
// "object_quota":300000}.
type Settings struct {
	Latency          chaos.Latency
	Faults           chaos.Faults
	Throttle         throttle.Config
	ReplicationDelay time.Duration
	InvitesPerMinute int
	AnswerDelay      time.Duration
	// ObjectQuota is the directory object quota's total; 0 follows Entra's
	// default: 50,000, or 300,000 with a verified domain (quota.go).
	ObjectQuota int
	// NoPremium models a tenant without Entra ID P1 or P2: every read
	// that selects or filters signInActivity is refused with Graph's 403
	// Authentication_RequestFromNonPremiumTenantOrB2CTenant (errNoPremium).
	// Nothing else a licence changes is modelled.
	NoPremium bool
}

type settingsJSON struct {
	Latency          *chaos.Latency   `json:"latency,omitempty"`
	Faults           *chaos.Faults    `json:"faults,omitempty"`
	Throttle         *throttle.Config `json:"throttle,omitempty"`
	ReplicationDelay *string          `json:"replication_delay,omitempty"`
	InvitesPerMinute *int             `json:"invites_per_minute,omitempty"`
	AnswerDelay      *string          `json:"answer_delay,omitempty"`
	ObjectQuota      *int             `json:"object_quota,omitempty"`
	NoPremium        *bool            `json:"no_premium,omitempty"`
}

// MarshalJSON writes every setting.
func (v Settings) MarshalJSON() ([]byte, error) {
	d, a := v.ReplicationDelay.String(), v.AnswerDelay.String()
	return json.Marshal(settingsJSON{&v.Latency, &v.Faults, &v.Throttle, &d, &v.InvitesPerMinute, &a, &v.ObjectQuota, &v.NoPremium})
}

// UnmarshalJSON changes the settings named in the JSON and keeps the others.
func (v *Settings) UnmarshalJSON(b []byte) error {
	var in settingsJSON
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	if in.Latency != nil {
		v.Latency = *in.Latency
	}
	if in.Faults != nil {
		v.Faults = *in.Faults
	}
	if in.Throttle != nil {
		v.Throttle = *in.Throttle
	}
	if in.ReplicationDelay != nil {
		d, err := time.ParseDuration(*in.ReplicationDelay)
		if err != nil || d < 0 {
			return fmt.Errorf("settings: replication_delay %q: want a duration such as 2s", *in.ReplicationDelay)
		}
		v.ReplicationDelay = d
	}
	if in.InvitesPerMinute != nil {
		v.InvitesPerMinute = *in.InvitesPerMinute
	}
	if in.AnswerDelay != nil {
		d, err := time.ParseDuration(*in.AnswerDelay)
		if err != nil || d < 0 {
			return fmt.Errorf("settings: answer_delay %q: want a duration such as 2s", *in.AnswerDelay)
		}
		v.AnswerDelay = d
	}
	if in.ObjectQuota != nil {
		v.ObjectQuota = *in.ObjectQuota
	}
	if in.NoPremium != nil {
		v.NoPremium = *in.NoPremium
	}
	return nil
}

// Settings returns the models in force.
func (s *Server) Settings() Settings {
	return Settings{
		Latency:          s.chaos.Latency(),
		Faults:           s.chaos.Faults(),
		Throttle:         s.limiter.Config(),
		ReplicationDelay: s.replicationDelay(),
		InvitesPerMinute: s.invites.Limit(),
		AnswerDelay:      time.Duration(s.answerDelay.Load()),
		ObjectQuota:      int(s.objectQuota.Load()),
		NoPremium:        s.noPremium.Load(),
	}
}

// SetSettings changes the models; nothing changes if any setting is
// invalid.
func (s *Server) SetSettings(v Settings) error {
	if err := v.Latency.Validate(); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if err := v.Faults.Validate(); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if err := v.Throttle.Validate(); err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if v.ReplicationDelay < 0 {
		return fmt.Errorf("sim: replication delay %s is negative", v.ReplicationDelay)
	}
	if v.AnswerDelay < 0 {
		return fmt.Errorf("sim: answer delay %s is negative", v.AnswerDelay)
	}
	if v.InvitesPerMinute < 0 || v.InvitesPerMinute > throttle.MaxLimitN {
		return fmt.Errorf("sim: invites per minute %d: want 0 (no cap) to %d", v.InvitesPerMinute, throttle.MaxLimitN)
	}
	if v.ObjectQuota < 0 {
		return fmt.Errorf("sim: object quota %d is negative", v.ObjectQuota)
	}
	_ = s.chaos.SetLatency(v.Latency)
	_ = s.chaos.SetFaults(v.Faults)
	_ = s.limiter.SetConfig(v.Throttle)
	_ = s.invites.SetLimit(v.InvitesPerMinute)
	s.replication.Store(int64(v.ReplicationDelay))
	s.answerDelay.Store(int64(v.AnswerDelay))
	s.objectQuota.Store(int64(v.ObjectQuota))
	s.noPremium.Store(v.NoPremium)
	return nil
}
