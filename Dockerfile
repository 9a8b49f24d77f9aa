# syntax=docker/dockerfile:1
# The foyer container image: foyer serve on port 8080, reading
# /etc/foyer/foyer.yaml, with the SQLite ledger (if the configuration uses
# one) under /var/lib/foyer. docs/deploy.md says how to run it.
#
# The Go version and the main package below are checked against go.mod by
# deploy/deploy_test.go, so that they cannot drift apart.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The SQLite driver (modernc.org/sqlite) is pure Go: no cgo, a static binary.
ENV CGO_ENABLED=0
RUN go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/foyer ./cmd/foyer \
 && mkdir -p /out/state

# distroless static: CA certificates and time zones, no shell, no package
# manager; the nonroot user (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/foyer /usr/local/bin/foyer
COPY --from=build --chown=65532:65532 /out/state /var/lib/foyer
USER 65532:65532
WORKDIR /var/lib/foyer
VOLUME /var/lib/foyer
EXPOSE 8080
# No HEALTHCHECK: the image has no shell or HTTP client to run one. Probe
# GET /healthz (alive) and GET /readyz (holds the ledger's worker lease)
# from the orchestrator instead (deploy/kubernetes, deploy/containerapps).
ENTRYPOINT ["/usr/local/bin/foyer"]
CMD ["serve", "--config", "/etc/foyer/foyer.yaml"]
