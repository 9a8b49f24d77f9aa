package throttle

import (
	"net/http"
	"strconv"
)

// The 429 answer. The sim server renders the body in Graph's error format,
// {"error":{"code","message","innerError":{...}}}, with these values, as in
// the sample of concepts/throttling.md (code "TooManyRequests", message
// "Please retry again later.").
const (
	TooManyRequestsStatus  = http.StatusTooManyRequests
	TooManyRequestsCode    = "TooManyRequests"
	TooManyRequestsMessage = "Please retry again later."
)

// Response header names, from includes/throttling-identity-and-access.md.
const (
	HeaderResourceUnit    = "x-ms-resource-unit"
	HeaderLimitPercentage = "x-ms-throttle-limit-percentage"
	HeaderScope           = "x-ms-throttle-scope"
	HeaderInformation     = "x-ms-throttle-information"
	HeaderRetryAfter      = "Retry-After"
)

// SetHeaders sets on h the headers Graph sends with this decision:
// x-ms-resource-unit always; x-ms-throttle-limit-percentage when 0.8 or more
// of a limit is in use ("0.8", "1.0", ...); and when refused, Retry-After in
// seconds with up to three decimals ("2.128", as Graph sends it),
// x-ms-throttle-scope and x-ms-throttle-information.
//
// http.Header canonicalises the names (X-Ms-Resource-Unit); HTTP treats
// header names case-insensitively, so clients see the same header.
func (d Decision) SetHeaders(h http.Header) {
	h.Set(HeaderResourceUnit, strconv.Itoa(d.RU))
	if d.Percentage >= 0.8 {
		h.Set(HeaderLimitPercentage, strconv.FormatFloat(d.Percentage, 'f', 1, 64))
	}
	if d.Allowed {
		return
	}
	h.Set(HeaderRetryAfter, d.RetryAfterHeader())
	h.Set(HeaderScope, d.Scope)
	h.Set(HeaderInformation, d.Information)
}

// RetryAfterHeader returns the Retry-After value for a refused decision:
// seconds, fractional when the wait is not whole ("2.128"), never 0.
func (d Decision) RetryAfterHeader() string {
	return formatSeconds(max(d.RetryAfter, 1))
}
