package graph

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestResolveCloud(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cloud                          Cloud
		authority, graph, scope, armSc string
		exchange                       string
	}{
		{CloudPublic, "https://login.microsoftonline.com/", "https://graph.microsoft.com", "https://graph.microsoft.com/.default", "https://management.azure.com/.default", "https://outlook.office365.com"},
		{"", "https://login.microsoftonline.com/", "https://graph.microsoft.com", "https://graph.microsoft.com/.default", "https://management.azure.com/.default", "https://outlook.office365.com"},
		{"Public", "https://login.microsoftonline.com/", "https://graph.microsoft.com", "https://graph.microsoft.com/.default", "https://management.azure.com/.default", "https://outlook.office365.com"},
		{CloudUSGov, "https://login.microsoftonline.us/", "https://graph.microsoft.us", "https://graph.microsoft.us/.default", "https://management.usgovcloudapi.net/.default", "https://outlook.office365.us"},
		{CloudChina, "https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn/.default", "https://management.chinacloudapi.cn/.default", "https://partner.outlook.cn"},
	} {
		e, err := resolveCloud(tc.cloud, Endpoints{})
		if err != nil {
			t.Fatal(err)
		}
		if e.cloud.ActiveDirectoryAuthorityHost != tc.authority || e.graph.base != tc.graph || e.graph.scope != tc.scope ||
			e.arm.scope != tc.armSc || e.exchange.base != tc.exchange {
			t.Errorf("cloud %q resolved to %+v", tc.cloud, e)
		}
	}
	e, err := resolveCloud(CloudCustom, Endpoints{Authority: "https://127.0.0.1:8443/", Graph: "https://127.0.0.1:8443", ARM: "https://127.0.0.1:8443/"})
	if err != nil {
		t.Fatal(err)
	}
	if e.cloud.ActiveDirectoryAuthorityHost != "https://127.0.0.1:8443/" || e.graph.scope != "https://graph.microsoft.com/.default" ||
		e.arm.base != "https://127.0.0.1:8443" || e.exchange.base != "" {
		t.Errorf("custom resolved to %+v", e)
	}
	for _, bad := range []struct {
		c Cloud
		e Endpoints
	}{
		{"mars", Endpoints{}},
		{CloudPublic, Endpoints{Graph: "https://x"}},
		{CloudCustom, Endpoints{}},
		{CloudCustom, Endpoints{Authority: "http://127.0.0.1/", Graph: "https://x"}},
		{CloudCustom, Endpoints{Authority: "https://a/", Graph: "https://x?q=1"}},
	} {
		if _, err := resolveCloud(bad.c, bad.e); err == nil {
			t.Errorf("cloud %q %+v accepted", bad.c, bad.e)
		}
	}
}

func TestNewCredentialRefusals(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value-never-shown"
	env := map[string]string{"SET": secret, "EMPTY": ""}
	files := map[string]string{"/secret": secret + "\n", "/empty": "  \n", "/notacert.pem": "hello " + secret}
	base := Options{TenantID: "t1", ClientID: "c1",
		Getenv: func(k string) string { return env[k] },
		ReadFile: func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		},
	}
	for _, tc := range []struct {
		name string
		cred Credential
		tid  string
		want string
	}{
		{"no type", Credential{}, "", "type is required"},
		{"unknown type", Credential{Type: "password"}, "", `unknown type "password"`},
		{"secret: nowhere", Credential{Type: CredentialClientSecret}, "", "secret_env or secret_file is required"},
		{"secret: both", Credential{Type: CredentialClientSecret, SecretEnv: "SET", SecretFile: "/secret"}, "", "not both"},
		{"secret: unset variable", Credential{Type: CredentialClientSecret, SecretEnv: "NOPE"}, "", "NOPE is empty or unset"},
		{"secret: empty variable", Credential{Type: CredentialClientSecret, SecretEnv: "EMPTY"}, "", "EMPTY is empty"},
		{"secret: missing file", Credential{Type: CredentialClientSecret, SecretFile: "/nope"}, "", "read /nope"},
		{"secret: empty file", Credential{Type: CredentialClientSecret, SecretFile: "/empty"}, "", "/empty is empty"},
		{"certificate: no file", Credential{Type: CredentialCertificate}, "", "certificate_file is required"},
		{"certificate: not a certificate", Credential{Type: CredentialCertificate, CertificateFile: "/notacert.pem"}, "", "holds no usable certificate"},
		{"managed identity: both ids", Credential{Type: CredentialManagedIdentity, ManagedIdentityClientID: "a", ManagedIdentityResourceID: "b"}, "", "not both"},
		{"bad tenant id", Credential{Type: CredentialClientSecret, SecretEnv: "SET"}, "t/1", "tenant id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := base
			o.Credential = tc.cred
			if tc.tid != "" {
				o.TenantID = tc.tid
			}
			_, err := NewCredential(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the secret is in the error: %v", err)
			}
		})
	}
	// What builds without a network call.
	for _, c := range []Credential{
		{Type: CredentialClientSecret, SecretEnv: "SET"},
		{Type: CredentialClientSecret, SecretFile: "/secret"},
		{Type: CredentialManagedIdentity},
		{Type: CredentialManagedIdentity, ManagedIdentityClientID: "00000000-0000-0000-0000-000000000001"},
		{Type: CredentialAzureCLI},
		{Type: CredentialWorkloadIdentity, TokenFile: "/var/run/token"},
	} {
		o := base
		o.Credential = c
		if _, err := NewCredential(o); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
	o := base
	o.Credential = Credential{Type: CredentialClientSecret, SecretEnv: "SET"}
	if s := o.String(); strings.Contains(s, secret) || !strings.Contains(s, "$SET") {
		t.Errorf("Options print as %q", s)
	}
	if _, err := NewCredential(Options{Credential: Credential{Type: CredentialClientSecret, SecretEnv: "X"}}); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("options without tenant: %v", err)
	}
}
