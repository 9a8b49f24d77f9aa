package graph

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// CredentialType says how foyer signs in to Entra.
type CredentialType string

// Credential types, as written in the configuration.
const (
	CredentialClientSecret     CredentialType = "client_secret"
	CredentialCertificate      CredentialType = "certificate"
	CredentialManagedIdentity  CredentialType = "managed_identity"
	CredentialWorkloadIdentity CredentialType = "workload_identity"
	CredentialAzureCLI         CredentialType = "azure_cli"
	CredentialDefault          CredentialType = "default"
)

// Credential is how to sign in. It names where secrets are, never the
// secrets themselves: a client secret comes from SecretEnv or SecretFile, a
// certificate's password from PasswordEnv.
type Credential struct {
	Type CredentialType

	SecretEnv  string // client_secret: environment variable holding the secret
	SecretFile string // client_secret: file holding the secret (trailing space trimmed)

	CertificateFile      string // certificate: PEM (certificate and key) or PFX/PKCS#12
	PasswordEnv          string // certificate: environment variable holding the key's password, if any
	SendCertificateChain bool   // certificate: send x5c (subject name/issuer authentication)

	ManagedIdentityClientID   string // managed_identity: a user-assigned identity's client id; empty = system-assigned
	ManagedIdentityResourceID string // managed_identity: or its ARM resource id

	TokenFile string // workload_identity: the federated token file; default AZURE_FEDERATED_TOKEN_FILE
}

// String describes the credential without any secret.
func (c Credential) String() string {
	switch c.Type {
	case CredentialClientSecret:
		if c.SecretEnv != "" {
			return "client_secret from $" + c.SecretEnv
		}
		return "client_secret from " + c.SecretFile
	case CredentialCertificate:
		return "certificate " + c.CertificateFile
	case "":
		return "none"
	}
	return string(c.Type)
}

func (c Credential) needsClientID() bool {
	switch c.Type {
	case CredentialClientSecret, CredentialCertificate:
		return true
	}
	return false
}

// NewCredential builds the azidentity credential o.Credential describes, for
// o's tenant, client and cloud, trusting o's CA. Secrets are read now, from
// the environment or files; errors name where they looked, never what they
// found.
func NewCredential(o Options) (azcore.TokenCredential, error) {
	o.fillDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	ep, err := resolveCloud(o.Cloud, o.Endpoints)
	if err != nil {
		return nil, err
	}
	hc, err := o.httpClient()
	if err != nil {
		return nil, err
	}
	copts := azcore.ClientOptions{Cloud: ep.cloud, Transport: hc}
	// The credentials that talk to Entra's token endpoint record their
	// transport errors (signin.go: azidentity keeps only their text) and do
	// not retry what no retry mends: a name that does not exist, a
	// certificate not trusted. Managed identity keeps azidentity's own
	// transport and retries, which its endpoints need.
	entra := copts
	entra.Transport = traceTransport{hc}
	entra.Retry = policy.RetryOptions{MaxRetries: 3, RetryDelay: o.Pacing.RetryDelay, MaxRetryDelay: o.Pacing.MaxRetryDelay, ShouldRetry: tokenRetry}
	// Instance discovery asks login.microsoftonline.com about the authority;
	// a custom authority (the sim, a disconnected cloud) cannot answer it.
	noDiscovery := o.cloudName() == CloudCustom
	c := o.Credential
	switch c.Type {
	case CredentialClientSecret:
		secret, err := c.secret(o)
		if err != nil {
			return nil, err
		}
		cred, err := azidentity.NewClientSecretCredential(o.TenantID, o.ClientID, secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: entra, DisableInstanceDiscovery: noDiscovery})
		return cred, wrapCredErr(c, err)
	case CredentialCertificate:
		return c.certificate(o, entra, noDiscovery)
	case CredentialManagedIdentity:
		return c.managedIdentity(copts)
	case CredentialWorkloadIdentity:
		cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: entra, ClientID: o.ClientID, TenantID: o.TenantID,
			TokenFilePath: c.TokenFile, DisableInstanceDiscovery: noDiscovery,
		})
		return cred, wrapCredErr(c, err)
	case CredentialAzureCLI:
		cred, err := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: o.TenantID})
		return cred, wrapCredErr(c, err)
	case CredentialDefault:
		cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: copts, TenantID: o.TenantID, DisableInstanceDiscovery: noDiscovery,
		})
		return cred, wrapCredErr(c, err)
	case "":
		return nil, errors.New("credential: type is required (client_secret, certificate, managed_identity, workload_identity, azure_cli or default)")
	default:
		return nil, fmt.Errorf("credential: unknown type %q (want client_secret, certificate, managed_identity, workload_identity, azure_cli or default)", c.Type)
	}
}

// certificate reads a PEM or PFX file (password from PasswordEnv) into a
// certificate credential.
func (c Credential) certificate(o Options, copts azcore.ClientOptions, noDiscovery bool) (azcore.TokenCredential, error) {
	if c.CertificateFile == "" {
		return nil, errors.New("credential certificate: certificate_file is required")
	}
	data, err := o.ReadFile(c.CertificateFile)
	if err != nil {
		return nil, fmt.Errorf("credential certificate: read %s: %w", c.CertificateFile, err)
	}
	var password []byte
	if c.PasswordEnv != "" {
		password = []byte(o.Getenv(c.PasswordEnv))
	}
	certs, key, err := azidentity.ParseCertificates(data, password)
	if err != nil {
		// The parser's message does not include the password.
		return nil, fmt.Errorf("credential certificate: %s holds no usable certificate and key (PEM, or PFX with the password in $%s): %w",
			c.CertificateFile, orNone(c.PasswordEnv), err)
	}
	cred, err := azidentity.NewClientCertificateCredential(o.TenantID, o.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: copts, DisableInstanceDiscovery: noDiscovery, SendCertificateChain: c.SendCertificateChain})
	return cred, wrapCredErr(c, err)
}

// managedIdentity is the system-assigned identity, or a user-assigned one
// by client id or resource id.
func (c Credential) managedIdentity(copts azcore.ClientOptions) (azcore.TokenCredential, error) {
	mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: copts}
	switch {
	case c.ManagedIdentityClientID != "" && c.ManagedIdentityResourceID != "":
		return nil, errors.New("credential managed_identity: set the client id or the resource id, not both")
	case c.ManagedIdentityClientID != "":
		mo.ID = azidentity.ClientID(c.ManagedIdentityClientID)
	case c.ManagedIdentityResourceID != "":
		mo.ID = azidentity.ResourceID(c.ManagedIdentityResourceID)
	}
	cred, err := azidentity.NewManagedIdentityCredential(mo)
	return cred, wrapCredErr(c, err)
}

// secret reads the client secret from where the credential names.
func (c Credential) secret(o Options) (string, error) {
	switch {
	case c.SecretEnv != "" && c.SecretFile != "":
		return "", errors.New("credential client_secret: set secret_env or secret_file, not both")
	case c.SecretEnv != "":
		s := strings.TrimSpace(o.Getenv(c.SecretEnv))
		if s == "" {
			return "", fmt.Errorf("credential client_secret: environment variable %s is empty or unset", c.SecretEnv)
		}
		return s, nil
	case c.SecretFile != "":
		b, err := o.ReadFile(c.SecretFile)
		if err != nil {
			return "", fmt.Errorf("credential client_secret: read %s: %w", c.SecretFile, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("credential client_secret: %s is empty", c.SecretFile)
		}
		return s, nil
	}
	return "", errors.New("credential client_secret: secret_env or secret_file is required (the secret itself never goes in the configuration)")
}

func wrapCredErr(c Credential, err error) error {
	if err != nil {
		return fmt.Errorf("credential %s: %w", c.Type, err)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none set)"
	}
	return s
}

// httpClient returns the HTTP client every request and token request uses.
func (o Options) httpClient() (*http.Client, error) {
	if o.HTTPClient != nil {
		return o.HTTPClient, nil
	}
	pool := o.RootCAs
	if o.CAFile != "" {
		pem, err := o.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		if pool == nil {
			if pool, err = x509.SystemCertPool(); err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
		} else {
			pool = pool.Clone()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.ForceAttemptHTTP2 = true
	if pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 100 * time.Second}, nil
}
