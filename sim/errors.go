package sim

import (
	"fmt"
	"net/http"
)

// apiError is an error answer of Graph, ARM or Exchange: a status, a machine
// code and a message. Where the sim models a documented error, the function
// that builds it cites where the code and text come from. Texts marked
// [unverified] were not found in any source; they follow Graph's style.
type apiError struct {
	status  int
	code    string
	message string
	header  http.Header // extra response headers (Retry-After, ...)
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// errNotFound is Graph's answer for a directory object that does not exist,
// or is not yet visible to writes (docs/graph-reference.md §3, §6).
func errNotFound(id string) *apiError {
	return newError(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

// errBadRequest is the directory's generic validation error (docs/graph-reference.md §6).
func errBadRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "Request_BadRequest", format, args...)
}

// errOData is the OData layer's validation error (code BadRequest), used for
// malformed bodies and query options, before the directory sees the request.
func errOData(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "BadRequest", format, args...)
}

// errUnsupportedQuery is the advanced-query family of errors
// (GD concepts/aad-advanced-queries.md, "Error handling").
func errUnsupportedQuery(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "Request_UnsupportedQuery", format, args...)
}

// errUnsupportedProperty is the error for a filter on a property or with an
// operator the directory does not index (GD aad-advanced-queries.md).
func errUnsupportedProperty(prop, resource string) *apiError {
	return errUnsupportedQuery("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", prop, resource)
}

// errAdvancedRequired is the answer to an advanced-only operator sent
// without ConsistencyLevel: eventual and $count=true (verbatim for endsWith
// in GD aad-advanced-queries.md; the same text is used for the other
// operators).
func errAdvancedRequired(op string) *apiError {
	return errUnsupportedQuery("Operator '%s' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information", op)
}

// errNoProperty is OData's answer to a $select, $filter or body property the
// type does not define.
func errNoProperty(name, typ string) *apiError {
	return errOData("Could not find a property named '%s' on type 'microsoft.graph.%s'.", name, typ)
}

// errUnknownBodyProperty is OData's answer to a request body member the type
// does not define.
func errUnknownBodyProperty(name, typ string) *apiError {
	return errOData("The property '%s' does not exist on type 'microsoft.graph.%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", name, typ)
}

// errForbidden is the answer to a token without the permission the call
// needs (docs/graph-reference.md §6).
func errForbidden() *apiError {
	return newError(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

// errNoPremium is the answer to selecting or filtering signInActivity in a
// tenant without Entra ID P1 or P2: 403 with this code and message, as
// reported in microsoftgraph/microsoft-graph-docs issues #12772 and #14118
// and MicrosoftDocs/azure-docs pull request #77948 (the licence requirement
// is stated in GD resources/user.md, signInActivity).
func errNoPremium() *apiError {
	return newError(http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license")
}

// errUnauthorized is the answer to a missing or invalid token (docs/graph-reference.md §6).
func errUnauthorized(message string) *apiError {
	return newError(http.StatusUnauthorized, "InvalidAuthenticationToken", "%s", message)
}

// errMethod is Graph's answer to a method the route does not support
// (docs/graph-reference.md §6: "Specified HTTP method is not allowed for the request
// target.", status 405).
func errMethod() *apiError {
	return newError(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

// errNoRoute is the answer to a path Graph does not serve.
func errNoRoute(path string) *apiError {
	return newError(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", path)
}

// errBody is the answer to a body that is not the JSON the call expects.
func errBody(err error) *apiError {
	return errOData("Invalid request body: %v", err)
}
