package graph

import (
	"net/http"

	"github.com/foyer-dev/foyer/directory"
)

// gatePolicy passes every try of a write through the directory.Gate of its
// context, as the last step before the transport: after the pacer admitted
// it and a token was attached, so that whatever the gate checks (the
// engine's lease) is checked as late as possible, and whatever it records
// (an invitation's intent) is recorded when the write really goes out.
// Reads pass freely.
type gatePolicy struct{}

func (gatePolicy) Do(req *policyRequest) (*http.Response, error) {
	var m meta
	req.OperationValue(&m)
	if m.kind != kindRead {
		if err := directory.Admit(req.Raw().Context()); err != nil {
			return nil, err
		}
	}
	return req.Next()
}
