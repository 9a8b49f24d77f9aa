package portal

import (
	"strings"
	"testing"

	"github.com/foyer-dev/foyer"
)

// TestCatalogueComplete: every language has every key, and every state a
// request can be in has its words.
func TestCatalogueComplete(t *testing.T) {
	for lang, texts := range catalogue {
		for key := range catalogue["en"] {
			if texts[key] == "" {
				t.Errorf("%s lacks %q", lang, key)
			}
		}
		for key := range texts {
			if _, ok := catalogue["en"][key]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, key)
			}
		}
		for _, s := range []foyer.State{foyer.StateReceived, foyer.StateVerified, foyer.StatePendingApproval, foyer.StateApproved,
			foyer.StateRejected, foyer.StateProvisioning, foyer.StateInvited, foyer.StateActive, foyer.StateExpired,
			foyer.StateRevoked, foyer.StateRemoved, foyer.StateFailed} {
			if strings.HasPrefix(tr(lang, "state."+string(s)), "[") {
				t.Errorf("%s has no words for state %s", lang, s)
			}
		}
	}
}
