package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The Exchange Online admin API's InvokeCommand call, which
// ExchangeOnlineManagement v3 itself uses (docs/graph-reference.md §12): New-MailContact,
// Get-MailContact and Remove-MailContact, and Get-MailUser and Set-MailUser
// for guests (mailusers.go). Requests need a token for
// https://outlook.office365.com with the app role Exchange.ManageAsApp.
// Cmdlet errors are answered 400 with the error id, exception type and
// text joined by '|' in error.details[0].message, which is how clients of
// this API (GreyCorbel/ExoHelper Get-ExoException) read them.

// mailContact is an Exchange mail contact.
type mailContact struct {
	objMeta
	Name                 string
	DisplayName          string
	Alias                string
	ExternalEmailAddress string // without SMTP:
	FirstName, LastName  string
}

func (m *mailContact) render(org string) object {
	when := m.created.UTC().Format(time.RFC3339)
	return object{
		{"Identity", m.Name},
		{"Id", m.Name},
		{"Name", m.Name},
		{"DisplayName", m.DisplayName},
		{"Alias", m.Alias},
		{"ExternalEmailAddress", "SMTP:" + m.ExternalEmailAddress},
		{"PrimarySmtpAddress", m.ExternalEmailAddress},
		{"EmailAddresses", []string{"SMTP:" + m.ExternalEmailAddress}},
		{"HiddenFromAddressListsEnabled", false},
		{"RecipientType", "MailContact"},
		{"RecipientTypeDetails", "MailContact"},
		{"ExternalDirectoryObjectId", m.id},
		{"Guid", m.id},
		{"DistinguishedName", "CN=" + m.Name + ",OU=" + org + ",OU=Microsoft Exchange Hosted Organizations,DC=EURPR01A001,DC=PROD,DC=OUTLOOK,DC=COM"},
		{"OrganizationId", org},
		{"WhenCreated", when},
		{"WhenCreatedUTC", when},
		{"WhenChanged", when},
		{"WhenChangedUTC", when},
	}
}

// contactHas reports whether a mail contact holds the address.
func (t *tenant) contactHas(addr string) bool {
	return t.contactByAddress(addr) != nil
}

func (t *tenant) contactByAddress(addr string) *mailContact {
	for _, m := range t.contacts.list {
		if strings.EqualFold(m.ExternalEmailAddress, addr) {
			return m
		}
	}
	return nil
}

// exoError is a cmdlet error: Exchange's error id, the .NET exception type
// and the text.
func exoError(id, typ, format string, args ...any) *apiError {
	e := newError(http.StatusBadRequest, id+"|"+typ, format, args...)
	return e
}

func exoErrorBody(e *apiError) object {
	id, typ, ok := strings.Cut(e.code, "|")
	if !ok {
		return object{{"error", object{{"code", e.code}, {"message", e.message}}}}
	}
	return object{{"error", object{
		{"code", "BadRequest"},
		{"message", "|" + typ + "|" + e.message},
		{"details", []object{{{"code", "Context"}, {"target", ""}, {"message", id + "|" + typ + "|" + e.message}}}},
		{"innererror", object{{"message", e.message}, {"type", typ}}},
	}}}
}

type cmdletInput struct {
	CmdletInput struct {
		CmdletName string                     `json:"CmdletName"`
		Parameters map[string]json.RawMessage `json:"Parameters"`
	} `json:"CmdletInput"`
}

var invokePath = regexp.MustCompile(`(?i)^/adminapi/beta/([^/]+)/InvokeCommand$`)

// exchange serves POST /adminapi/beta/{tenant}/InvokeCommand.
func (s *Server) exchange(c *call, r *http.Request) *reply {
	m := invokePath.FindStringSubmatch(c.path)
	if m == nil {
		return c.fail(newError(http.StatusNotFound, "NotFound", "The emulated tenant serves only /adminapi/beta/{tenantId}/InvokeCommand."))
	}
	if c.method != http.MethodPost {
		return c.fail(newError(http.StatusMethodNotAllowed, "MethodNotAllowed", "InvokeCommand takes POST."))
	}
	body, err := readBody(r)
	if err != nil {
		return c.fail(err)
	}
	c.body = body
	who, t, err := s.verify(r, exchangeAudiences)
	if err != nil {
		return c.fail(err)
	}
	c.who, c.t = who, t
	if !strings.EqualFold(m[1], t.id) && !t.hasDomain(m[1]) {
		return c.fail(errUnauthorized("The tenant in the URL is not the token's tenant."))
	}
	if !who.roles["exchange.manageasapp"] {
		return c.fail(newError(http.StatusUnauthorized, "UnAuthorized", "The role assigned to application %s isn't supported in this scenario. Please check online documentation for assigning correct Directory Roles to Azure AD Application for EXO App-Only Authentication.", who.appID))
	}
	var in cmdletInput
	if err := json.Unmarshal(body, &in); err != nil || in.CmdletInput.CmdletName == "" {
		return c.fail(newError(http.StatusBadRequest, "BadRequest", "The request body must be {\"CmdletInput\":{\"CmdletName\":...,\"Parameters\":{...}}}."))
	}
	name := in.CmdletInput.CmdletName
	s.stats.route("POST /adminapi/beta/{tenantId}/InvokeCommand "+name, !strings.HasPrefix(strings.ToLower(name), "get-"))
	return c.runCmdlet(name, in.CmdletInput.Parameters)
}

func (t *tenant) hasDomain(name string) bool {
	for _, d := range t.domains {
		if strings.EqualFold(d.ID, name) {
			return true
		}
	}
	return strings.EqualFold(t.initialDomain, name)
}

type cmdletParams map[string]json.RawMessage

// str reads a string parameter, case-insensitively as PowerShell does.
func (p cmdletParams) str(name string) (string, bool) {
	for k, v := range p {
		if strings.EqualFold(k, name) {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return strings.Trim(string(v), `"`), true
			}
			return s, true
		}
	}
	return "", false
}

// check refuses parameters the cmdlet does not take and missing mandatory
// ones, with PowerShell's messages.
func (p cmdletParams) check(allowed, mandatory []string) *apiError {
	for k := range p {
		if !containsFold(allowed, k) {
			return exoError("", "System.Management.Automation.ParameterBindingException", "A parameter cannot be found that matches parameter name '%s'.", k)
		}
	}
	var missing []string
	for _, m := range mandatory {
		if v, ok := p.str(m); !ok || strings.TrimSpace(v) == "" {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		return exoError("", "System.Management.Automation.ParameterBindingException", "Cannot process command because of one or more missing mandatory parameters: %s.", strings.Join(missing, " "))
	}
	return nil
}

func (c *call) runCmdlet(name string, raw map[string]json.RawMessage) *reply {
	p := cmdletParams(raw)
	var value []object
	var err *apiError
	switch strings.ToLower(name) {
	case "new-mailcontact":
		value, err = c.newMailContact(p)
	case "get-mailcontact":
		return c.getMailContact(p)
	case "remove-mailcontact":
		value, err = c.removeMailContact(p)
	case "get-mailuser":
		return c.getMailUser(p)
	case "set-mailuser":
		return c.setMailUser(p)
	default:
		err = exoError("", "System.Management.Automation.CommandNotFoundException", "The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program.", name)
	}
	if err != nil {
		return c.fail(err)
	}
	return c.exoValue(value, "")
}

// exoPage reads the page an Exchange Get- cmdlet asks for: its size from
// the Prefer header (1,000 by default), its start from the skip token.
func (c *call) exoPage(t *tenant) (*listQuery, *apiError) {
	q := &listQuery{top: 1000}
	if v := preferPageSize(c.header.Get("Prefer")); v > 0 {
		q.top = v
	}
	if tok, ok := option(c.query, "skiptoken"); ok {
		after, err := decodeSkipToken(tok, t.generation.Load())
		if err != nil {
			return nil, err
		}
		q.after = after
	}
	return q, nil
}

func (c *call) exoValue(value []object, next string) *reply {
	return c.exoReply(value, next, nil)
}

// exoReply is a cmdlet's answer: its objects, the next page, and the
// warnings the cmdlet wrote.
func (c *call) exoReply(value []object, next string, warnings []string) *reply {
	if value == nil {
		value = []object{}
	}
	if warnings == nil {
		warnings = []string{}
	}
	body := object{
		{"@odata.context", c.base + "/adminapi/beta/" + c.t.id + "/$metadata#Collection(Exchange.GenericHashTable)"},
		{"adminapi.warnings", warnings},
	}
	if next != "" {
		body = append(body, member{"@odata.nextLink", next})
	}
	return &reply{status: http.StatusOK, body: append(body, member{"value", value}), ctype: "application/json; odata.metadata=minimal; charset=utf-8"}
}

// newMailContact is New-MailContact (MicrosoftDocs/office-docs-powershell
// exchange/exchange-ps/exchange/New-MailContact.md: -Name and
// -ExternalEmailAddress are mandatory).
func (c *call) newMailContact(p cmdletParams) ([]object, *apiError) {
	if err := p.check([]string{"Name", "ExternalEmailAddress", "DisplayName", "Alias", "FirstName", "LastName", "Initials", "Confirm"}, []string{"Name", "ExternalEmailAddress"}); err != nil {
		return nil, err
	}
	name, _ := p.str("Name")
	ext, _ := p.str("ExternalEmailAddress")
	addr := strings.TrimSpace(ext)
	if i := strings.IndexByte(addr, ':'); i >= 0 && strings.EqualFold(addr[:i], "smtp") {
		addr = addr[i+1:]
	}
	if !validAddress(addr) {
		return nil, exoError("", "System.Management.Automation.ParameterBindingException", "Cannot process argument transformation on parameter 'ExternalEmailAddress'. \"%s\" isn't a valid SMTP address.", ext)
	}
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.proxyFree(addr); err != nil {
		return nil, err
	}
	for _, m := range t.contacts.list {
		if strings.EqualFold(m.Name, name) {
			return nil, exoError("Ex16DB41", "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException", "The name \"%s\" is already being used. Please try another name.", name) // [unverified]
		}
	}
	display, _ := p.str("DisplayName")
	if display == "" {
		display = name
	}
	alias, _ := p.str("Alias")
	if alias == "" {
		alias = aliasOf(name)
	}
	first, _ := p.str("FirstName")
	last, _ := p.str("LastName")
	m := &mailContact{objMeta: t.nextMeta(c.s.ids.guid(), c.now, 0), Name: name, DisplayName: display, Alias: alias, ExternalEmailAddress: addr, FirstName: first, LastName: last}
	t.contacts.add(m)
	return []object{m.render(t.initialDomain)}, nil
}

// proxyFree refuses an address another recipient already has as a proxy
// address: a mail contact, or a user (guests are mail users in Exchange).
func (t *tenant) proxyFree(addr string) *apiError {
	holder := ""
	if m := t.contactByAddress(addr); m != nil {
		holder = m.Name
	}
	for _, u := range t.byProxy.get("smtp:" + strings.ToLower(addr)) {
		holder = u.MailNickname
	}
	if holder == "" {
		return nil
	}
	// The text of Exchange's proxy address conflict (Microsoft 365 docs,
	// "Error when creating shared mailboxes"; many scripts match on it).
	return exoError("ExB10BE9", "Microsoft.Exchange.Management.Tasks.WLCDManagedMemberExistsException",
		"The proxy address \"SMTP:%s\" is already being used by the proxy addresses or LegacyExchangeDN of \"%s\". Please choose another proxy address.", addr, holder)
}

var aliasStrip = regexp.MustCompile(`[^A-Za-z0-9!#$%&'*+\-/=?^_{|}~.]`)

func aliasOf(name string) string {
	a := aliasStrip.ReplaceAllString(name, "")
	if a == "" {
		return "contact"
	}
	return a
}

// findContact resolves -Identity as Exchange does: name, alias, display
// name, address or GUID.
func (t *tenant) findContact(id string) *mailContact {
	id = strings.TrimSpace(id)
	addr := strings.TrimPrefix(strings.TrimPrefix(id, "SMTP:"), "smtp:")
	for _, m := range t.contacts.list {
		if strings.EqualFold(m.Name, id) || strings.EqualFold(m.Alias, id) || strings.EqualFold(m.DisplayName, id) ||
			strings.EqualFold(m.ExternalEmailAddress, addr) || strings.EqualFold(m.id, id) {
			return m
		}
	}
	return nil
}

func (c *call) contactNotFound(id string) *apiError {
	return exoError("Ex6F9304", "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
		"The operation couldn't be performed because object '%s' couldn't be found on 'EURPR01A001DC01.EURPR01A001.PROD.OUTLOOK.COM'.", id)
}

// getMailContact is Get-MailContact: one contact by -Identity, or all of
// them in pages of Prefer: odata.maxpagesize (default 1000).
func (c *call) getMailContact(p cmdletParams) *reply {
	if err := p.check([]string{"Identity", "ResultSize", "Filter", "Anr"}, nil); err != nil {
		return c.fail(err)
	}
	t := c.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	if id, ok := p.str("Identity"); ok && id != "" {
		m := t.findContact(id)
		if m == nil {
			return c.fail(c.contactNotFound(id))
		}
		return c.exoValue([]object{m.render(t.initialDomain)}, "")
	}
	q, err := c.exoPage(t)
	if err != nil {
		return c.fail(err)
	}
	items, last, more := page(t.contacts.list, q, func(*mailContact) bool { return true })
	value := make([]object, len(items))
	for i, m := range items {
		value[i] = m.render(t.initialDomain)
	}
	next := ""
	if more {
		next = c.base + c.path + "?$skiptoken=" + encodeSkipToken(last, t.generation.Load())
	}
	return c.exoValue(value, next)
}

func preferPageSize(prefer string) int {
	for _, part := range strings.Split(prefer, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// removeMailContact is Remove-MailContact -Identity … [-Confirm:$false].
func (c *call) removeMailContact(p cmdletParams) ([]object, *apiError) {
	if err := p.check([]string{"Identity", "Confirm"}, []string{"Identity"}); err != nil {
		return nil, err
	}
	id, _ := p.str("Identity")
	t := c.t
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.findContact(id)
	if m == nil {
		return nil, c.contactNotFound(id)
	}
	t.contacts.remove(m.id)
	return nil, nil
}

// MailContact is an Exchange mail contact, for AddMailContact: a person
// outside the organisation in the address book, which is what an Exchange
// admin makes with New-MailContact.
type MailContact struct {
	Name                 string `json:"name"` // unique; default: the address
	DisplayName          string `json:"display_name"`
	ExternalEmailAddress string `json:"external_email_address"`
}

// ErrNoMailContact is returned by RemoveMailContact for an identity no
// contact answers to.
var ErrNoMailContact = errors.New("no such mail contact")

// AddMailContact makes a mail contact in the default tenant, as an Exchange
// admin would outside foyer, with New-MailContact's refusals: an invalid
// address, a name or address already used.
func (s *Server) AddMailContact(m MailContact) (MailContact, error) {
	addr := strings.TrimSpace(m.ExternalEmailAddress)
	if !validAddress(addr) {
		return MailContact{}, fmt.Errorf("mail contact: %q isn't a valid SMTP address", m.ExternalEmailAddress)
	}
	if m.Name == "" {
		m.Name = addr
	}
	if m.DisplayName == "" {
		m.DisplayName = m.Name
	}
	t := s.def
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.proxyFree(addr); err != nil {
		return MailContact{}, fmt.Errorf("mail contact %s: %s", addr, err.message)
	}
	for _, c := range t.contacts.list {
		if strings.EqualFold(c.Name, m.Name) {
			return MailContact{}, fmt.Errorf("mail contact: the name %q is already being used", m.Name)
		}
	}
	t.contacts.add(&mailContact{objMeta: t.nextMeta(s.ids.guid(), s.clock.Now(), 0), Name: m.Name, DisplayName: m.DisplayName,
		Alias: aliasOf(m.Name), ExternalEmailAddress: addr})
	m.ExternalEmailAddress = addr
	return m, nil
}

// RemoveMailContact removes the default tenant's mail contact that answers
// to identity (name, alias, display name, address or id), as
// Remove-MailContact does.
func (s *Server) RemoveMailContact(identity string) error {
	t := s.def
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.findContact(identity)
	if m == nil {
		return fmt.Errorf("remove mail contact %s: %w", identity, ErrNoMailContact)
	}
	t.contacts.remove(m.id)
	return nil
}
