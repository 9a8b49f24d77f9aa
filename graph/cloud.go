package graph

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

// Cloud names a national cloud, or "custom" for endpoints given one by one
// (the sim, Azure Stack).
type Cloud string

// Clouds foyer knows.
const (
	CloudPublic Cloud = "public"
	CloudUSGov  Cloud = "usgov"
	CloudChina  Cloud = "china"
	CloudCustom Cloud = "custom"
)

// Endpoints are the base URLs of the services foyer calls. For a named cloud
// they are filled from the cloud; with CloudCustom, Authority and Graph are
// required and ARM and Exchange are needed only by the grants that use them.
// Token audiences stay those of the public cloud for a custom cloud, as the
// sim expects.
type Endpoints struct {
	Authority string // the identity platform host, e.g. https://login.microsoftonline.com/
	Graph     string // e.g. https://graph.microsoft.com (no version)
	ARM       string // e.g. https://management.azure.com
	Exchange  string // e.g. https://outlook.office365.com
}

// service is one resource foyer calls: where, and the token scope for it.
type service struct {
	base  string // scheme://host[:port][/path], no trailing slash
	scope string // e.g. https://graph.microsoft.com/.default
}

// endpoints is a cloud resolved to concrete services.
type endpoints struct {
	cloud    cloud.Configuration
	graph    service
	arm      service
	exchange service
}

// Sources: Graph national cloud deployments
// (microsoft-graph-docs-contrib concepts/deployments.md) for the Graph hosts;
// azcore's cloud package for authority hosts and ARM endpoints; Exchange
// Online endpoints per cloud (office-docs-powershell
// exchange/docs-conceptual/connect-to-exchange-online-powershell.md,
// -ExchangeEnvironmentName O365USGovGCCHigh / O365China).
var clouds = map[Cloud]struct {
	cfg                     cloud.Configuration
	graph, arm, exchange    string
	armAudience, exAudience string
}{
	CloudPublic: {cloud.AzurePublic, "https://graph.microsoft.com", "https://management.azure.com", "https://outlook.office365.com", "https://management.azure.com", "https://outlook.office365.com"},
	CloudUSGov:  {cloud.AzureGovernment, "https://graph.microsoft.us", "https://management.usgovcloudapi.net", "https://outlook.office365.us", "https://management.usgovcloudapi.net", "https://outlook.office365.us"},
	CloudChina:  {cloud.AzureChina, "https://microsoftgraph.chinacloudapi.cn", "https://management.chinacloudapi.cn", "https://partner.outlook.cn", "https://management.chinacloudapi.cn", "https://partner.outlook.cn"},
}

// resolve turns a cloud name and, for a custom cloud, its endpoints into the
// services to call. Every problem is reported at once.
func resolveCloud(c Cloud, custom Endpoints) (endpoints, error) {
	c = Cloud(strings.ToLower(strings.TrimSpace(string(c))))
	if c == "" {
		c = CloudPublic
	}
	if c != CloudCustom {
		k, ok := clouds[c]
		if !ok {
			return endpoints{}, fmt.Errorf("cloud %q: want public, usgov, china or custom", c)
		}
		if custom != (Endpoints{}) {
			return endpoints{}, fmt.Errorf("cloud %q: endpoints may be set only with cloud custom", c)
		}
		return endpoints{
			cloud:    k.cfg,
			graph:    service{k.graph, k.graph + "/.default"},
			arm:      service{k.arm, k.armAudience + "/.default"},
			exchange: service{k.exchange, k.exAudience + "/.default"},
		}, nil
	}
	pub := clouds[CloudPublic]
	var problems []string
	check := func(name, v string, required bool) string {
		if v == "" {
			if required {
				problems = append(problems, "endpoints."+name+" is required with cloud custom")
			}
			return ""
		}
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			problems = append(problems, fmt.Sprintf("endpoints.%s %q: want an https URL without query", name, v))
			return ""
		}
		return strings.TrimSuffix(v, "/")
	}
	auth := check("authority", custom.Authority, true)
	e := endpoints{
		graph:    service{check("graph", custom.Graph, true), pub.graph + "/.default"},
		arm:      service{check("arm", custom.ARM, false), pub.armAudience + "/.default"},
		exchange: service{check("exchange", custom.Exchange, false), pub.exAudience + "/.default"},
	}
	if len(problems) > 0 {
		return endpoints{}, fmt.Errorf("cloud custom: %s", strings.Join(problems, "; "))
	}
	e.cloud = cloud.Configuration{
		ActiveDirectoryAuthorityHost: auth + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Audience: pub.armAudience, Endpoint: e.arm.base},
		},
	}
	return e, nil
}

// Identity returns what a web sign-in or a token check needs of the
// tenant the options name: the identity platform's origin (without a
// trailing slash; the issuer is {authority}/{tenant}/v2.0) and an HTTP
// client that trusts what the Graph client trusts (the CA file, for the
// emulated tenant).
func Identity(o Options) (authority string, client *http.Client, err error) {
	e, err := resolveCloud(o.Cloud, o.Endpoints)
	if err != nil {
		return "", nil, err
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	if client, err = o.httpClient(); err != nil {
		return "", nil, err
	}
	return strings.TrimSuffix(e.cloud.ActiveDirectoryAuthorityHost, "/"), client, nil
}
