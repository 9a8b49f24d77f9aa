package notify

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// RedactURL returns raw with everything that may be secret replaced: the
// scheme and host are kept, the path and the query become ***. It is the
// form of a webhook URL that may appear in logs, errors and output. A value
// that does not parse as a URL becomes "***".
func RedactURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "***"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		s += "/***"
	}
	return s
}

// CheckWebhookURL reports whether raw can be used as a webhook URL: an
// absolute https URL without user info, or an http one on a loopback host
// (a local relay, a test server). The error names the problem, never the
// URL itself.
func CheckWebhookURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("the webhook URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("the webhook URL does not parse")
	}
	switch {
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("the webhook URL %s has no host", RedactURL(raw))
	case u.User != nil:
		return nil, fmt.Errorf("the webhook URL %s carries user info; put no credentials in it", RedactURL(raw))
	case u.Fragment != "":
		return nil, fmt.Errorf("the webhook URL %s has a #fragment", RedactURL(raw))
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("the webhook URL %s must use https (http is allowed only on a loopback host)", RedactURL(raw))
	default:
		return nil, fmt.Errorf("the webhook URL %s must use https", RedactURL(raw))
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
