package sim_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/foyer-dev/foyer/sim"
	"github.com/foyer-dev/foyer/sim/simtest"
)

// BenchmarkInvitations measures the sim's own throughput: POST /invitations
// over HTTPS with keep-alive from parallel clients, no latency, no
// throttling. Run it as
//
//	go test -run '^$' -bench Invitations -benchtime 5s ./sim
func BenchmarkInvitations(b *testing.B) {
	s := simtest.Start(b, sim.Options{Empty: true})
	tok, err := simtest.Credential(b, s).GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil {
		b.Fatal(err)
	}
	// HTTP/1.1 with keep-alive, one connection per parallel client, as
	// foyer's workers use the Graph endpoint.
	tr := s.Client().Transport.(*http.Transport)
	tr.ForceAttemptHTTP2 = false
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	tr.MaxIdleConnsPerHost = 64
	client := &http.Client{Transport: tr}
	url := s.URL() + "/v1.0/invitations"
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Appendf(nil, `{"invitedUserEmailAddress":"bench%d@partner.example","inviteRedirectUrl":"https://myapps.microsoft.com"}`, n.Add(1))
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok.Token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invitations/s")
}
