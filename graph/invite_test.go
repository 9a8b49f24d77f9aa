package graph

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/directory"
)

const redirect = "https://myapps.microsoft.com/"

func TestInviteRefusesBadAddressesBeforeAnyCall(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	c, _ := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }, nil)
	// The characters Entra refuses in invitedUserEmailAddress
	// (resources/invitation.md), and malformed addresses.
	bad := []string{"", "no-at-sign", "a@b", ".a@b.example", "a.@b.example", "a..b@c.example", "a b@c.example"}
	for _, ch := range "~!#$%^&*()+=[]{}\\/|;:\"<>?," {
		bad = append(bad, "a"+string(ch)+"b@fabrikam.example")
	}
	for _, a := range bad {
		_, err := c.Invite(context.Background(), directory.Invitation{Email: foyer.Address(a), RedirectURL: redirect})
		if !errors.Is(err, directory.ErrInvalidAddress) {
			t.Errorf("Invite(%q) = %v, want ErrInvalidAddress", a, err)
		}
	}
	for _, inv := range []directory.Invitation{
		{Email: "a@fabrikam.example", RedirectURL: "not a url"},
		{Email: "a@fabrikam.example", RedirectURL: redirect, Reset: true},
	} {
		if _, err := c.Invite(context.Background(), inv); !errors.Is(err, directory.ErrInvalid) {
			t.Errorf("Invite(%+v) = %v, want ErrInvalid", inv, err)
		}
	}
	if _, err := c.Invite(context.Background(), directory.Invitation{Email: "a@fabrikam.example", RedirectURL: redirect, CC: "bad cc"}); !errors.Is(err, directory.ErrInvalidAddress) {
		t.Errorf("bad cc: %v", err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d calls reached the service", n)
	}
}

// inviteOK answers an invitation the way Graph does.
func inviteOK(w http.ResponseWriter, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "rid-invite")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "inv-1", "inviteRedeemUrl": "https://login.example/redeem?rd=x", "status": "PendingAcceptance",
		"invitedUserEmailAddress": body["invitedUserEmailAddress"], "invitedUser": map[string]string{"id": "guest-1"},
	})
}

func TestInviteSendsEveryOption(t *testing.T) {
	t.Parallel()
	var got map[string]any
	c, _ := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1.0/users/"):
			_, _ = w.Write([]byte(`{"id":"sponsor-id"}`))
		case r.URL.Path == "/v1.0/invitations":
			_ = json.NewDecoder(r.Body).Decode(&got)
			inviteOK(w, got)
		default:
			graphErr(w, 404, "Request_ResourceNotFound", "no")
		}
	}, nil)
	inv, err := c.Invite(context.Background(), directory.Invitation{
		Email: "o'brien@Fabrikam.example", DisplayName: "O'Brien", RedirectURL: redirect,
		SendEmail: false, Message: "hello", Language: "fr-FR", CC: "boss@contoso.example",
		Sponsors: []string{"11111111-2222-3333-4444-555555555555", "alice@contoso.example"},
		Reset:    true, UserID: "guest-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if inv.UserID != "guest-1" || inv.RedeemURL == "" || inv.RequestID != "rid-invite" || inv.Existing {
		t.Fatalf("invited %+v", inv)
	}
	want := `{"inviteRedirectUrl":"https://myapps.microsoft.com/","invitedUser":{"id":"guest-1"},"invitedUserDisplayName":"O'Brien","invitedUserEmailAddress":"o'brien@fabrikam.example",` +
		`"invitedUserMessageInfo":{"ccRecipients":[{"emailAddress":{"address":"boss@contoso.example"}}],"customizedMessageBody":"hello","messageLanguage":"fr-FR"},` +
		`"invitedUserSponsors":[{"id":"11111111-2222-3333-4444-555555555555"},{"id":"sponsor-id"}],` +
		`"resetRedemption":true,"sendInvitationMessage":false}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Fatalf("body\n%s\nwant\n%s", b, want)
	}
}

// A 5xx or a dropped connection after POST /invitations: the person is
// looked up before anything is sent again.
func TestInviteUnknownOutcomeLooksUpFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		fail          func(w http.ResponseWriter)
		createdAnyway bool
		listed        bool // the new guest already shows in list queries
		wantPosts     int64
		wantExisting  bool
	}{
		{"500, guest was created", func(w http.ResponseWriter) { graphErr(w, 500, "InternalServerError", "boom") }, true, true, 1, true},
		{"500, guest was created but is not listed yet", func(w http.ResponseWriter) { graphErr(w, 500, "InternalServerError", "boom") }, true, false, 1, true},
		{"dropped, guest was created", hangUp, true, true, 1, true},
		// Not found: the call fails with the outcome unknown rather than
		// inviting again, since the guest may yet show.
		{"503, nothing was created", func(w http.ResponseWriter) { graphErr(w, 503, "ServiceUnavailable", "busy") }, false, false, 1, false},
		{"dropped, nothing was created", hangUp, false, false, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var posts, lookups atomic.Int64
			var created atomic.Bool
			const guest = `{"id":"guest-1","mail":"x@fabrikam.example","userType":"Guest","externalUserState":"PendingAcceptance"}`
			c, _ := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.URL.Path == "/v1.0/invitations":
					n := posts.Add(1)
					if n == 1 {
						if tc.createdAnyway {
							created.Store(true)
						}
						tc.fail(w)
						return
					}
					created.Store(true)
					inviteOK(w, map[string]any{"invitedUserEmailAddress": "x@fabrikam.example"})
				case r.URL.Path == "/v1.0/domains":
					_, _ = w.Write([]byte(`{"value":[{"id":"contoso.onmicrosoft.com","isVerified":true,"isInitial":true}]}`))
				case r.URL.Path == "/v1.0/users":
					lookups.Add(1)
					if f := r.URL.Query().Get("$filter"); !strings.Contains(f, "mail eq 'x@fabrikam.example'") {
						t.Errorf("look-up filter %q", f)
					}
					if created.Load() && tc.listed {
						_, _ = w.Write([]byte(`{"value":[` + guest + `]}`))
					} else {
						_, _ = w.Write([]byte(`{"value":[]}`))
					}
				case r.URL.Path == "/v1.0/users/x_fabrikam.example#EXT#@contoso.onmicrosoft.com":
					lookups.Add(1)
					if !strings.Contains(r.URL.RawPath+r.URL.EscapedPath(), "%23EXT%23") {
						t.Errorf("UPN path not escaped: %q", r.URL.EscapedPath())
					}
					if created.Load() {
						_, _ = w.Write([]byte(guest))
					} else {
						graphErr(w, 404, "Request_ResourceNotFound", "Resource 'x' does not exist")
					}
				default:
					t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
				}
			}, nil)
			inv, err := c.Invite(context.Background(), directory.Invitation{Email: "x@fabrikam.example", RedirectURL: redirect})
			switch {
			case !tc.createdAnyway:
				if !directory.OutcomeUnknown(err) || !errors.Is(err, directory.ErrUnavailable) {
					t.Fatalf("Invite = %+v, %v; want an unavailable error with the outcome unknown", inv, err)
				}
			case err != nil:
				t.Fatal(err)
			case inv.UserID != "guest-1" || inv.Existing != tc.wantExisting:
				t.Fatalf("invited %+v", inv)
			}
			wantLookups := int64(2)
			if tc.listed {
				wantLookups = 1
			}
			if posts.Load() != tc.wantPosts || lookups.Load() != wantLookups {
				t.Fatalf("%d POSTs and %d look-ups, want %d and %d", posts.Load(), lookups.Load(), tc.wantPosts, wantLookups)
			}
		})
	}
}

func hangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestInviteErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		email    string
		answer   func(w http.ResponseWriter)
		users    string
		want     error
		wantPerm string
	}{
		{"missing permission", "x@fabrikam.example", func(w http.ResponseWriter) {
			graphErr(w, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		}, `{"value":[]}`, directory.ErrForbidden, "User.Invite.All"},
		{"blocked for suspicious activity", "x@fabrikam.example", func(w http.ResponseWriter) {
			graphErr(w, 403, "Forbidden", "Invitations are blocked for this directory due to suspicious activity. Please contact Microsoft support for help.")
		}, `{"value":[]}`, directory.ErrBlocked, ""},
		{"verified domain", "x@contoso.example", func(w http.ResponseWriter) {
			graphErr(w, 400, "BadRequest", "The invited user already exists in the directory as a member")
		}, `{"value":[]}`, directory.ErrInternal, ""},
		{"existing member with an outside address", "x@fabrikam.example", func(w http.ResponseWriter) {
			graphErr(w, 400, "BadRequest", "refused")
		}, `{"value":[{"id":"m","mail":"x@fabrikam.example","userType":"Member"}]}`, directory.ErrInternal, ""},
		{"other refusal", "x@fabrikam.example", func(w http.ResponseWriter) {
			graphErr(w, 400, "BadRequest", "refused")
		}, `{"value":[]}`, directory.ErrInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, logs := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/v1.0/invitations":
					_, _ = io.Copy(io.Discard, r.Body)
					tc.answer(w)
				case "/v1.0/domains":
					_, _ = w.Write([]byte(`{"value":[{"id":"contoso.example","isVerified":true},{"id":"contoso.onmicrosoft.com","isVerified":true,"isInitial":true}]}`))
				case "/v1.0/users":
					_, _ = w.Write([]byte(tc.users))
				}
			}, nil)
			_, err := c.Invite(context.Background(), directory.Invitation{Email: foyer.Address(tc.email), RedirectURL: redirect})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var de *directory.Error
			if !errors.As(err, &de) || de.RequestID == "" {
				t.Fatalf("error %v carries no request-id", err)
			}
			if de.Permission != tc.wantPerm || (tc.wantPerm != "" && !strings.Contains(err.Error(), tc.wantPerm)) {
				t.Fatalf("permission %q in %q, want %q", de.Permission, err, tc.wantPerm)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(logs.String(), testToken) {
				t.Fatal("the token leaked into an error or the log")
			}
		})
	}
}

func TestThrottledRequestIsRetriedAfterRetryAfter(t *testing.T) {
	t.Parallel()
	var posts atomic.Int64
	c, logs := fakeGraph(t, func(w http.ResponseWriter, r *http.Request) {
		if posts.Add(1) <= 2 {
			w.Header().Set("Retry-After", "2.5")
			w.Header().Set("x-ms-throttle-scope", "Tenant_Application/Write/app/tenant")
			graphErr(w, 429, "TooManyRequests", "Please retry again later.")
			return
		}
		inviteOK(w, map[string]any{})
	}, nil)
	if _, err := c.Invite(context.Background(), directory.Invitation{Email: "x@fabrikam.example", RedirectURL: redirect}); err != nil {
		t.Fatal(err)
	}
	vc := c.o.Clock.(*vclock)
	var waited bool
	for _, w := range vc.waits {
		waited = waited || w >= 2500*time.Millisecond-time.Millisecond
	}
	if !waited || posts.Load() != 3 {
		t.Fatalf("%d POSTs, waits %v: want 3 POSTs and a wait of Retry-After", posts.Load(), vc.waits)
	}
	if st := c.Stats(); st.Throttled != 2 || st.Retries != 2 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.Contains(logs.String(), "status=429") || strings.Contains(logs.String(), testToken) {
		t.Fatalf("log:\n%s", logs)
	}
}
