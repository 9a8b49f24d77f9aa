package sim

import (
	"encoding/json"
	"strings"
)

// userReadOnly are properties a PATCH may not set. The message is the
// directory's for read-only properties.
var userReadOnly = map[string]string{
	"id": "id", "createddatetime": "createdDateTime", "creationtype": "creationType",
	"externaluserstate": "externalUserState", "externaluserstatechangedatetime": "externalUserStateChangeDateTime",
	"proxyaddresses": "proxyAddresses", "signinactivity": "signInActivity", "assignedlicenses": "assignedLicenses",
	"identities": "identities", "deleteddatetime": "deletedDateTime",
}

// setUserProperty applies one member of a PATCH body to u.
func (c *call) setUserProperty(u *user, name string, raw json.RawMessage) *apiError {
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "@odata") {
		return nil
	}
	if ro, ok := userReadOnly[lower]; ok {
		return errBadRequest("Property '%s' is read-only and cannot be set.", ro)
	}
	if set, ok := userStringSetters[lower]; ok {
		s, err := jsonString(raw, "Edm.String")
		if err != nil {
			return err
		}
		return set(c, u, s)
	}
	switch lower {
	case "accountenabled":
		return decodeTyped(raw, &u.AccountEnabled, "Edm.Boolean")
	case "showinaddresslist":
		var b bool
		if err := decodeTyped(raw, &b, "Edm.Boolean"); err != nil {
			return err
		}
		u.ShowInAddressList = &b
		return nil
	case "othermails":
		return c.setAddressList(raw, &u.OtherMails, "otherMails")
	case "businessphones":
		return decodeTyped(raw, &u.BusinessPhones, "Collection(Edm.String)")
	case "onpremisesextensionattributes":
		return u.setOnPrem(raw)
	}
	if isExtensionName(name) {
		v, err := jsonString(raw, "Edm.String")
		if err != nil {
			return err
		}
		u.setExtension(name, v)
		return nil
	}
	if _, ok := userFields[lower]; ok {
		return errBadRequest("Property '%s' is read-only and cannot be set.", userFields[lower].name)
	}
	return errUnknownBodyProperty(name, "user")
}

func decodeTyped(raw json.RawMessage, v any, edm string) *apiError {
	if err := json.Unmarshal(raw, v); err != nil {
		return errOData("Cannot convert the literal '%s' to the expected type '%s'.", strings.Trim(string(raw), `"`), edm)
	}
	return nil
}

func jsonString(raw json.RawMessage, edm string) (string, *apiError) {
	if string(raw) == "null" {
		return "", nil
	}
	var s string
	return s, decodeTyped(raw, &s, edm)
}

func invalidValue(prop string) *apiError {
	return errBadRequest("Invalid value specified for property '%s' of resource 'User'.", prop)
}

type stringSetter func(c *call, u *user, s string) *apiError

func plain(field func(u *user) *string) stringSetter {
	return func(_ *call, u *user, s string) *apiError { *field(u) = s; return nil }
}

var userStringSetters = map[string]stringSetter{
	"companyname":       plain(func(u *user) *string { return &u.CompanyName }),
	"department":        plain(func(u *user) *string { return &u.Department }),
	"employeeid":        plain(func(u *user) *string { return &u.EmployeeID }),
	"givenname":         plain(func(u *user) *string { return &u.GivenName }),
	"jobtitle":          plain(func(u *user) *string { return &u.JobTitle }),
	"mobilephone":       plain(func(u *user) *string { return &u.MobilePhone }),
	"officelocation":    plain(func(u *user) *string { return &u.OfficeLocation }),
	"preferredlanguage": plain(func(u *user) *string { return &u.PreferredLanguage }),
	"surname":           plain(func(u *user) *string { return &u.Surname }),
	"mailnickname":      plain(func(u *user) *string { return &u.MailNickname }),
	"displayname": func(_ *call, u *user, s string) *apiError {
		if strings.TrimSpace(s) == "" {
			return invalidValue("displayName")
		}
		u.DisplayName = s
		return nil
	},
	"usagelocation": func(_ *call, u *user, s string) *apiError {
		if s != "" && (len(s) != 2 || strings.ToUpper(s) != s || !isAlpha(s)) {
			return invalidValue("usageLocation")
		}
		u.UsageLocation = s
		return nil
	},
	"usertype": func(_ *call, u *user, s string) *apiError {
		switch {
		case strings.EqualFold(s, "Member"):
			u.UserType = "Member"
		case strings.EqualFold(s, "Guest"):
			u.UserType = "Guest"
		default:
			return invalidValue("userType")
		}
		return nil
	},
	"mail": func(_ *call, u *user, s string) *apiError {
		if s != "" && !validAddress(s) {
			return invalidValue("mail")
		}
		u.Mail = s
		return nil
	},
	"userprincipalname": func(c *call, u *user, s string) *apiError {
		_, domain, ok := strings.Cut(s, "@")
		if !ok || !c.t.isVerifiedDomain(domain) {
			return errBadRequest("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.")
		}
		u.UserPrincipalName = s
		return nil
	},
}

func (c *call) setAddressList(raw json.RawMessage, dst *[]string, prop string) *apiError {
	var list []string
	if err := decodeTyped(raw, &list, "Collection(Edm.String)"); err != nil {
		return err
	}
	for _, a := range list {
		if !validAddress(a) {
			return invalidValue(prop)
		}
	}
	*dst = list
	return nil
}

func isAlpha(s string) bool {
	for i := range len(s) {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
