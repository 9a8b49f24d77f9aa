package graph

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/foyer-dev/foyer/directory"
)

// Least privileged application permissions per call, from the permission
// tables of the Graph API reference (microsoft-graph-docs-contrib
// api-reference/v1.0/includes/permissions/*-permissions.md), named in
// ErrForbidden so that an admin knows what to consent.
const (
	permUserRead       = "User.Read.All"                   // user-list, user-get
	permUserInvite     = "User.Invite.All"                 // invitation-post
	permUserWrite      = "User.ReadWrite.All"              // user-update, user-delete
	permDomainRead     = "Domain.Read.All"                 // domain-list
	permGroupRead      = "GroupMember.Read.All"            // group-list, group-list-members
	permGroupMember    = "GroupMember.ReadWrite.All"       // group-post-members, group-delete-members, group-update (members@odata.bind)
	permAppRoleRead    = "Application.Read.All"            // serviceprincipal-list, -list-approleassignedto
	permAppRoleWrite   = "AppRoleAssignment.ReadWrite.All" // serviceprincipal-post-approleassignedto, -delete
	permLicenseRead    = "LicenseAssignment.Read.All"      // subscribedsku-list
	permLicenseWrite   = "LicenseAssignment.ReadWrite.All" // user-assignlicense
	permRoleRead       = "RoleManagement.Read.Directory"   // rbacapplication-list-roledefinitions, -roleassignments
	permRoleWrite      = "RoleManagement.ReadWrite.Directory"
	permARMRoleWrite   = "Microsoft.Authorization/roleAssignments/write (User Access Administrator or Owner at the scope)"
	permARMRoleRead    = "Microsoft.Authorization/roleAssignments/read (Reader at the scope)"
	permARMRoleDelete  = "Microsoft.Authorization/roleAssignments/delete (User Access Administrator or Owner at the scope)"
	permExchangeManage = "Exchange.ManageAsApp (and the Exchange Recipient Administrator role)"
)

// graphError is the error body Graph, ARM and Exchange share:
// {"error":{"code","message","innerError":{"request-id",...}}}
// (docs/graph-reference.md §6, microsoft-graph-docs-contrib concepts/errors.md).
type graphError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// parseError reads a service error body; an unreadable body gives empty
// code and message.
func parseError(body []byte) (code, message, requestID string) {
	var ge graphError
	if json.Unmarshal(body, &ge) != nil {
		return "", "", ""
	}
	return ge.Error.Code, ge.Error.Message, ge.Error.InnerError.RequestID
}

// serviceError maps a non-2xx answer to a typed directory error.
func serviceError(op, perm string, r *response) *directory.Error {
	code, msg, rid := parseError(r.body)
	if r.requestID != "" {
		rid = r.requestID
	}
	e := &directory.Error{Op: op, Status: r.status, Code: code, Message: msg, RequestID: rid}
	e.Kind = kindOf(r.status, code, msg)
	switch e.Kind {
	case directory.ErrForbidden:
		e.Permission = perm
	case directory.ErrThrottled:
		e.RetryAfter = retryAfter(r.header, 0)
	}
	return e
}

// kindOf maps a status and error code to a directory error kind.
func kindOf(status int, code, msg string) error {
	switch {
	case status == http.StatusForbidden && isBlocked(msg):
		return directory.ErrBlocked
	case status == http.StatusForbidden && code == codeNoPremium:
		return directory.ErrNoPremium
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return directory.ErrForbidden
	case status == http.StatusGone, strings.EqualFold(code, codeSyncStateNotFound):
		return directory.ErrResync
	case status == http.StatusNotFound:
		return directory.ErrNotFound
	case status == http.StatusConflict:
		return directory.ErrExists
	case status == http.StatusTooManyRequests:
		return directory.ErrThrottled
	case status == http.StatusRequestTimeout, status >= 500:
		return directory.ErrUnavailable
	}
	return directory.ErrInvalid
}

// codeSyncStateNotFound is Graph's error code for an expired delta token
// (400, "The sync state generation is not found", docs/graph-reference.md
// §20); 410 Gone asks for a full synchronization too.
const codeSyncStateNotFound = "syncStateNotFound"

// codeNoPremium is Graph's error code for signInActivity in a tenant
// without Entra ID P1 or P2 (403, "Neither tenant is B2C or tenant doesn't
// have premium license": microsoftgraph/microsoft-graph-docs issues #12772
// and #14118).
const codeNoPremium = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"

// isBlocked recognises the 403 Entra returns once its abuse detection has
// blocked invitations for the tenant: "Invitations are blocked for this
// directory due to suspicious activity. Please contact Microsoft support for
// help." (code Forbidden; Microsoft Q&A 12731593, "What is the recommended
// rate limit for bulk B2B guest invitations"). Graph gives no distinct code,
// so this is the one place the client reads a message.
func isBlocked(msg string) bool {
	return strings.Contains(strings.ToLower(msg), "suspicious activity")
}

// retryAfter reads Retry-After (seconds, possibly fractional, or an HTTP
// date); def when absent or unreadable.
func retryAfter(h http.Header, def time.Duration) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return def
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < 24*3600 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return def
}

// isDuplicate reports an answer that means "what you asked for is already
// so": a member already in the group, an app role or directory role
// already assigned, an Azure role assignment that exists.
func isDuplicate(err error) bool {
	var e *directory.Error
	if !errors.As(err, &e) {
		return false
	}
	m := strings.ToLower(e.Message)
	switch {
	case e.Status == http.StatusConflict: // RoleAssignmentExists (ARM), Request_MultipleObjectsWithSameKeyValue
		return true
	case e.Status != http.StatusBadRequest:
		return false
	}
	// Graph: "One or more added object references already exist for the
	// following modified properties: 'members'." (group-post-members);
	// "Permission being assigned already exists on the object."
	// (appRoleAssignedTo); "A conflicting object with one or more of the
	// specified property values is present in the directory."
	// (roleAssignments). Graph has reworded these before, so match the
	// stable part.
	return strings.Contains(m, "already exist") || strings.Contains(m, "conflicting object")
}

// scrub removes query strings from URLs inside transport errors (a SAS
// token or an address should not travel into logs through an error).
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.RawQuery != "" {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

// errOf returns the *directory.Error in err's chain, or nil.
func errOf(err error) *directory.Error {
	var e *directory.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
