package simtest

import "github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

func policyOptions(scope string) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: []string{scope}}
}
