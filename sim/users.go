package sim

import (
	"strings"
	"time"
)

// user is a directory user: a member, or a guest created by an invitation.
// Field names follow Graph's (GD api-reference/v1.0/resources/user.md).
type user struct {
	objMeta
	AccountEnabled                  bool
	BusinessPhones                  []string
	CompanyName                     string
	CreationType                    string // Invitation for B2B guests, "" for members
	Department                      string
	DisplayName                     string
	EmployeeID                      string
	ExternalUserState               string // PendingAcceptance, Accepted, "" when never invited
	ExternalUserStateChangeDateTime time.Time
	GivenName                       string
	Identities                      []identity
	JobTitle                        string
	Mail                            string
	MailNickname                    string
	MobilePhone                     string
	OfficeLocation                  string
	OtherMails                      []string
	PreferredLanguage               string
	ProxyAddresses                  []string
	ShowInAddressList               *bool
	Surname                         string
	UsageLocation                   string
	UserPrincipalName               string
	UserType                        string // Member or Guest
	Licenses                        []assignedLicense
	SignIn                          *signInActivity
	Sponsors                        []string            // object ids
	Extensions                      map[string]extValue // directory extension properties by lowercased name (extattrs.go)
	OnPremExt                       [15]string          // onPremisesExtensionAttributes 1 to 15
	invitedEmail                    string              // the address of the last invitation
	born, changed                   int64               // change numbers of its creation and last change (delta.go)
	propChanged                     map[string]int64    // lowercased property name → change number of its last change
	redirectURL                     string
}

type identity struct {
	SignInType       string  `json:"signInType"`
	Issuer           string  `json:"issuer"`
	IssuerAssignedID *string `json:"issuerAssignedId"`
}

type assignedLicense struct {
	DisabledPlans []string `json:"disabledPlans"`
	SkuID         string   `json:"skuId"`
}

// signInActivity is GD resources/signinactivity.md.
type signInActivity struct {
	LastSignIn              time.Time
	LastSignInRequest       string
	LastNonInteractive      time.Time
	LastNonInteractiveReq   string
	LastSuccessfulSignIn    time.Time
	LastSuccessfulSignInReq string
}

func (u *user) isGuest() bool { return strings.EqualFold(u.UserType, "Guest") }

// field implements entity for $filter.
func (u *user) field(name string) any {
	switch name {
	case "assignedlicenses":
		out := make([]map[string]any, len(u.Licenses))
		for i, l := range u.Licenses {
			out[i] = map[string]any{"skuid": l.SkuID}
		}
		return out
	case "identities":
		out := make([]map[string]any, len(u.Identities))
		for i, id := range u.Identities {
			v := ""
			if id.IssuerAssignedID != nil {
				v = *id.IssuerAssignedID
			}
			out[i] = map[string]any{"signintype": id.SignInType, "issuer": id.Issuer, "issuerassignedid": v}
		}
		return out
	case "signinactivity":
		s := u.SignIn
		if s == nil {
			s = &signInActivity{}
		}
		return map[string]any{
			"lastsignindatetime":               s.LastSignIn,
			"lastnoninteractivesignindatetime": s.LastNonInteractive,
			"lastsuccessfulsignindatetime":     s.LastSuccessfulSignIn,
		}
	case "createddatetime":
		return u.created
	case "externaluserstatechangedatetime":
		return u.ExternalUserStateChangeDateTime
	case "onpremisesextensionattributes":
		return u.onPremField()
	}
	if isExtensionName(name) {
		return u.extension(name)
	}
	if f, ok := userFields[name]; ok {
		return f.get(u)
	}
	return nil
}

type userField struct {
	name string
	get  func(u *user) any
}

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return graphTime(t)
}

// userFields are the properties of a user the sim answers, by lowercased
// name. Properties Graph defines but the sim does not keep are answered as
// null (userUnkept).
var userFields = func() map[string]userField {
	list := []userField{
		{"id", func(u *user) any { return u.id }},
		{"accountEnabled", func(u *user) any { return u.AccountEnabled }},
		{"assignedLicenses", func(u *user) any { return licensesOrEmpty(u.Licenses) }},
		{"businessPhones", func(u *user) any { return stringsOrEmpty(u.BusinessPhones) }},
		{"companyName", func(u *user) any { return nullable(u.CompanyName) }},
		{"createdDateTime", func(u *user) any { return timeOrNull(u.created) }},
		{"creationType", func(u *user) any { return nullable(u.CreationType) }},
		{"deletedDateTime", func(u *user) any { return nil }},
		{"department", func(u *user) any { return nullable(u.Department) }},
		{"displayName", func(u *user) any { return nullable(u.DisplayName) }},
		{"employeeId", func(u *user) any { return nullable(u.EmployeeID) }},
		{"externalUserState", func(u *user) any { return nullable(u.ExternalUserState) }},
		{"externalUserStateChangeDateTime", func(u *user) any { return timeOrNull(u.ExternalUserStateChangeDateTime) }},
		{"givenName", func(u *user) any { return nullable(u.GivenName) }},
		{"identities", func(u *user) any { return identitiesOrEmpty(u.Identities) }},
		{"jobTitle", func(u *user) any { return nullable(u.JobTitle) }},
		{"mail", func(u *user) any { return nullable(u.Mail) }},
		{"mailNickname", func(u *user) any { return nullable(u.MailNickname) }},
		{"mobilePhone", func(u *user) any { return nullable(u.MobilePhone) }},
		{"officeLocation", func(u *user) any { return nullable(u.OfficeLocation) }},
		{"otherMails", func(u *user) any { return stringsOrEmpty(u.OtherMails) }},
		{"preferredLanguage", func(u *user) any { return nullable(u.PreferredLanguage) }},
		{"proxyAddresses", func(u *user) any { return stringsOrEmpty(u.ProxyAddresses) }},
		{"showInAddressList", func(u *user) any { return boolOrNull(u.ShowInAddressList) }},
		{"signInActivity", func(u *user) any { return u.SignIn.render() }},
		{"surname", func(u *user) any { return nullable(u.Surname) }},
		{"usageLocation", func(u *user) any { return nullable(u.UsageLocation) }},
		{"userPrincipalName", func(u *user) any { return u.UserPrincipalName }},
		{"userType", func(u *user) any { return nullable(u.UserType) }},
		{"onPremisesExtensionAttributes", func(u *user) any { return u.renderOnPrem() }},
	}
	for _, name := range userUnkept {
		list = append(list, userField{name, func(*user) any { return nil }})
	}
	for _, name := range []string{"imAddresses", "assignedPlans", "provisionedPlans"} {
		list = append(list, userField{name, func(*user) any { return []string{} }})
	}
	m := make(map[string]userField, len(list))
	for _, f := range list {
		m[strings.ToLower(f.name)] = f
	}
	return m
}()

// userUnkept are user properties of Graph v1.0 that the sim does not keep;
// $select on them answers null, as Graph does for an unset property.
var userUnkept = []string{
	"ageGroup", "city", "consentProvidedForMinor", "country", "employeeHireDate",
	"employeeLeaveDateTime", "employeeType", "faxNumber", "isResourceAccount",
	"lastPasswordChangeDateTime", "legalAgeGroupClassification", "onPremisesDistinguishedName",
	"onPremisesDomainName", "onPremisesImmutableId", "onPremisesLastSyncDateTime",
	"onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
	"onPremisesUserPrincipalName", "passwordPolicies", "postalCode", "securityIdentifier",
	"state", "streetAddress",
}

// userDefault is the property set Graph returns without $select
// (GD api-reference/v1.0/api/user-list.md).
var userDefault = []string{
	"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
	"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
}

func boolOrNull(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

// licensesOrEmpty writes assignedLicenses with [] for missing lists,
// without touching the user (renders run under a read lock).
func licensesOrEmpty(l []assignedLicense) []assignedLicense {
	out := make([]assignedLicense, len(l))
	for i, x := range l {
		out[i] = assignedLicense{SkuID: x.SkuID, DisabledPlans: stringsOrEmpty(x.DisabledPlans)}
	}
	return out
}

func identitiesOrEmpty(l []identity) []identity {
	if l == nil {
		return []identity{}
	}
	return l
}

func (s *signInActivity) render() any {
	if s == nil {
		return nil
	}
	return object{
		{"lastSignInDateTime", timeOrNull(s.LastSignIn)},
		{"lastSignInRequestId", nullable(s.LastSignInRequest)},
		{"lastNonInteractiveSignInDateTime", timeOrNull(s.LastNonInteractive)},
		{"lastNonInteractiveSignInRequestId", nullable(s.LastNonInteractiveReq)},
		{"lastSuccessfulSignInDateTime", timeOrNull(s.LastSuccessfulSignIn)},
		{"lastSuccessfulSignInRequestId", nullable(s.LastSuccessfulSignInReq)},
	}
}

// render writes the selected properties of u (the default set when sel is
// empty).
func (u *user) render(sel []string) object {
	if len(sel) == 0 {
		sel = userDefault
	}
	o := make(object, 0, len(sel)+1)
	for _, name := range sel {
		if isExtensionName(name) {
			o = append(o, u.extensionMember(strings.ToLower(name)))
			continue
		}
		f := userFields[strings.ToLower(name)]
		o = append(o, member{f.name, f.get(u)})
	}
	return o
}
