package graph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/foyer-dev/foyer/directory"
)

// This file turns what goes wrong before Graph answers (signing in,
// reaching the host, trusting its certificate) into one short
// *directory.Error that says what failed and what to change
// (docs/graph.md, "Sign-in and network failures").

// SignIn gets a token for Graph, and nothing else. Call it first: a
// configuration that cannot sign in then fails once, with what to fix,
// instead of once for every call that needs a token. The token is cached by
// the credential, so the first call after it does not sign in again.
//
// Its errors are *directory.Error of kind directory.ErrSignIn (the token
// endpoint refused the credential; Code holds the AADSTS code),
// directory.ErrNetwork (the host does not resolve or nothing answers),
// directory.ErrCertificate (its certificate is not trusted here) or
// directory.ErrUnavailable, each with a Fix.
func (c *Client) SignIn(ctx context.Context) error {
	ctx, _ = withNetTrace(ctx)
	_, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.ep.graph.scope}})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return &directory.Error{Op: c.signInOp(), Kind: directory.ErrUnavailable, Err: ctx.Err()}
	}
	return c.signInError(ctx, c.signInOp(), err)
}

func (c *Client) signInOp() string {
	op := "sign in to tenant " + c.o.TenantID
	if c.o.ClientID != "" {
		op += " as app " + c.o.ClientID
	}
	return op
}

// tokenCredential marks the errors of a credential, so that a failure to
// get a token is told apart from a failure of the request that needed it.
type tokenCredential struct{ azcore.TokenCredential }

func (tc tokenCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tk, err := tc.TokenCredential.GetToken(ctx, o)
	if err != nil {
		err = &tokenError{err}
	}
	return tk, err
}

// tokenError is a credential's failure to get a token.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return e.err.Error() }
func (e *tokenError) Unwrap() error { return e.err }

// signInError types a credential's failure. A token endpoint's answer
// gives ErrSignIn with its AADSTS code; no answer gives ErrNetwork or
// ErrCertificate from the transport error recorded on the way (azidentity
// keeps only its text).
func (c *Client) signInError(ctx context.Context, op string, err error) *directory.Error {
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) && af.RawResponse != nil {
		return c.tokenRefusal(op, af.RawResponse)
	}
	if tr := netTraceFrom(ctx); tr != nil {
		if nerr := tr.last(); nerr != nil {
			if e := c.o.netError(op, nerr); e != nil {
				return e
			}
		}
	}
	text := credentialText(err)
	// Only when the transport error was not seen (a credential the caller
	// built, or a token another request was fetching): Go's own wording.
	switch class := classifyText(text); class {
	case netCertificate:
		return &directory.Error{Op: op, Kind: directory.ErrCertificate, Message: text, Fix: c.o.certificateFix(c.authorityHost())}
	case netNoHost, netUnreachable:
		return &directory.Error{Op: op, Kind: directory.ErrNetwork, Message: text, Fix: c.o.networkFix(c.authorityHost(), class)}
	}
	return &directory.Error{Op: op, Kind: directory.ErrSignIn, Message: text, Fix: c.o.signInFix(0)}
}

// aadError is the error body of Entra's token and discovery endpoints
// (entra-docs identity-platform/reference-error-codes.md, "Handling error
// codes in your application").
type aadError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
	Message       string `json:"message"` // managed identity endpoints
}

var aadstsCode = regexp.MustCompile(`^AADSTS(\d+):\s*`)

// tokenRefusal reads the token endpoint's answer: the AADSTS code, the first
// sentence of its description (the rest is trace ids and advice the Fix
// gives better), and what to change for that code.
func (c *Client) tokenRefusal(op string, resp *http.Response) *directory.Error {
	e := &directory.Error{Op: op, Kind: directory.ErrSignIn, Status: resp.StatusCode}
	body, _ := runtime.Payload(resp)
	var ae aadError
	_ = json.Unmarshal(body, &ae)
	desc := ae.Description
	if desc == "" {
		desc = ae.Message
	}
	code := 0
	if len(ae.Codes) > 0 && ae.Codes[0] > 0 {
		code = ae.Codes[0]
		e.Code = "AADSTS" + strconv.Itoa(code)
	}
	if m := aadstsCode.FindStringSubmatch(desc); m != nil {
		if e.Code == "" {
			e.Code = "AADSTS" + m[1]
			if n, err := strconv.Atoi(m[1]); err == nil {
				code = n
			}
		}
		desc = desc[len(m[0]):]
	}
	if e.Code == "" {
		e.Code = oneLine(ae.Error)
	}
	e.Message = firstSentence(desc)
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		e.Kind = directory.ErrUnavailable
	}
	e.Fix = c.o.signInFix(code)
	c.log.Debug("sign-in refused", "status", resp.StatusCode, "error", ae.Error, "code", e.Code,
		"trace_id", ae.TraceID, "correlation_id", ae.CorrelationID)
	return e
}

// oneLine is s with its white space runs made single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// firstSentence is s up to its first full stop (or line end), on one line.
func firstSentence(s string) string {
	s, _, _ = strings.Cut(s, "\r\n")
	s, _, _ = strings.Cut(s, "\n")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	return oneLine(s)
}

// credentialText is a credential error's text on one line, without
// azidentity's troubleshooting link.
func credentialText(err error) string {
	s := err.Error()
	if i := strings.Index(s, "To troubleshoot, visit"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimRight(strings.Join(strings.Fields(s), " "), " .") + "."
}

// signInFix says what to change for an AADSTS code (0: unknown), for the
// refusals the configuration can mend (entra-docs
// identity-platform/reference-error-codes.md).
func (o Options) signInFix(code int) string {
	c := o.Credential
	switch code {
	case 7000215, 7000222, 70002: // invalid or expired client secret
		if c.Type == CredentialClientSecret {
			where := "secret_file " + c.SecretFile
			if c.SecretEnv != "" {
				where = "$" + c.SecretEnv + " (secret_env)"
			}
			return fmt.Sprintf("check the client secret in %s: it must be the secret's value (not its ID) of a current secret of app %s", where, o.ClientID)
		}
	case 90002, 900023, 90038, 50059, 50128: // tenant not found, not valid, in another cloud
		return fmt.Sprintf("check tenant_id (%s) and cloud (%s): the tenant must exist in that cloud", o.TenantID, o.cloudName())
	case 700016, 700011, 7000112, 70001: // app not found or disabled
		return fmt.Sprintf("check client_id (%s): the app must be registered, and enabled, in tenant %s", o.ClientID, o.TenantID)
	case 700027, 700024, 700023, 700021, 700030, 50012, 50048, 50027: // client assertion refused
		if c.Type == CredentialCertificate {
			return fmt.Sprintf("check certificate_file %s: its certificate must be one uploaded to app %s, current, and its key the matching one", c.CertificateFile, o.ClientID)
		}
	case 7000216, 7000218: // no credential sent
		return fmt.Sprintf("the credential sent neither a secret nor a certificate: check credential.type (%s)", c.Type)
	case 53003, 530032, 530035: // Conditional Access, security defaults
		return "a Conditional Access policy or the security defaults block this app's sign-in: an admin must exempt it (or its network location)"
	case 500011, 70011, 1002012: // the resource (Graph) is not in the tenant
		return fmt.Sprintf("the tenant has no Microsoft Graph for this cloud: check cloud (%s) and endpoints", o.cloudName())
	}
	if code != 0 {
		return fmt.Sprintf("see https://login.microsoftonline.com/error?code=%d", code)
	}
	return fmt.Sprintf("check the credential (%s) and tenant_id (%s)", c, o.TenantID)
}

// Kinds of transport failure, for retries and messages.
type netClass int

const (
	netOther       netClass = iota // dropped or reset connection, timeout: may pass if tried again
	netUnreachable                 // connection refused, no route, DNS server failing: retried briefly
	netNoHost                      // the name does not exist: final
	netCertificate                 // the certificate is not trusted: final
)

// classifyNet types a transport error by what is in its chain.
func classifyNet(err error) netClass {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return netCertificate
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		if dns.IsNotFound {
			return netNoHost
		}
		return netUnreachable
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return netUnreachable
	}
	return netOther
}

// classifyText types a transport failure known only by its text, in the
// words of Go's crypto/x509, crypto/tls and net packages.
func classifyText(s string) netClass {
	switch {
	case strings.Contains(s, "x509: "), strings.Contains(s, "tls: failed to verify certificate"):
		return netCertificate
	case strings.Contains(s, "no such host"):
		return netNoHost
	case strings.Contains(s, "connection refused"), strings.Contains(s, "dial tcp"):
		return netUnreachable
	}
	return netOther
}

// netError types a transport error that is about the network or the
// certificate; nil for others (a dropped connection stays ErrUnavailable).
func (o Options) netError(op string, err error) *directory.Error {
	host := hostOf(err)
	var inner error = err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err // the URL (and its query) stays out of the message
	}
	switch class := classifyNet(err); class {
	case netCertificate:
		return &directory.Error{Op: op, Kind: directory.ErrCertificate, Err: inner, Fix: o.certificateFix(host)}
	case netNoHost, netUnreachable:
		return &directory.Error{Op: op, Kind: directory.ErrNetwork, Err: inner, Fix: o.networkFix(host, class)}
	}
	return nil
}

func (o Options) certificateFix(host string) string {
	trust := "the system's trust store"
	if o.CAFile != "" {
		trust = "ca_file (" + o.CAFile + ") or the system's trust store"
	}
	return fmt.Sprintf("%s presented a certificate not trusted here: add the CA that signed it to %s (a TLS-inspecting proxy's CA too); check that it is the right host", orHost(host), trust)
}

func (o Options) networkFix(host string, class netClass) string {
	f := fmt.Sprintf("check that %s is reachable from here: the cloud (%s) and endpoints, DNS, a proxy (HTTPS_PROXY) or firewall", orHost(host), o.cloudName())
	if class == netNoHost {
		f = fmt.Sprintf("%s does not resolve: check the cloud (%s) and endpoints, and DNS", orHost(host), o.cloudName())
	}
	if o.cloudName() == CloudCustom {
		f += "; an emulated tenant must be running"
	}
	return f
}

func orHost(h string) string {
	if h == "" {
		return "the service"
	}
	return h
}

// hostOf is the host a transport error is about: from the URL of the
// request, else from the dial or lookup.
func hostOf(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Host
		}
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Name
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Addr != nil {
		return op.Addr.String()
	}
	return ""
}

// authorityHost is the sign-in host, for messages.
func (c *Client) authorityHost() string {
	if u, err := url.Parse(c.ep.cloud.ActiveDirectoryAuthorityHost); err == nil {
		return u.Host
	}
	return ""
}

// netTrace records the transport errors of the requests made under one
// context. azidentity turns a failed token request into text; the trace
// keeps the typed error, read by signInError.
type netTrace struct {
	mu   sync.Mutex
	errs []error
}

type netTraceKey struct{}

func withNetTrace(ctx context.Context) (context.Context, *netTrace) {
	tr := &netTrace{}
	return context.WithValue(ctx, netTraceKey{}, tr), tr
}

func netTraceFrom(ctx context.Context) *netTrace {
	tr, _ := ctx.Value(netTraceKey{}).(*netTrace)
	return tr
}

func (t *netTrace) add(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errs) < 8 {
		t.errs = append(t.errs, err)
	}
}

func (t *netTrace) last() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errs) == 0 {
		return nil
	}
	return t.errs[len(t.errs)-1]
}

// traceTransport is the transport of the credential's requests: it
// records their transport errors in the context's trace.
type traceTransport struct{ next policy.Transporter }

func (t traceTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.next.Do(req)
	if err != nil {
		if tr := netTraceFrom(req.Context()); tr != nil {
			tr.add(err)
		}
	}
	return resp, err
}

// tokenRetry decides the credential's own retries (azcore's retry policy
// inside azidentity): the statuses azcore retries by default, and transport
// errors except a name that does not exist and an untrusted certificate,
// which no retry mends.
func tokenRetry(resp *http.Response, err error) bool {
	if err != nil {
		switch classifyNet(err) {
		case netNoHost, netCertificate:
			return false
		}
		return true
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
