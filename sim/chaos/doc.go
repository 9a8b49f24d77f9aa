// Package chaos is the emulated tenant's model of an imperfect network and
// service: response latency drawn from a log-normal distribution, and random
// faults — Graph's 500, 503 and 504 answers, and connections dropped without
// an answer, either before the request is handled or after it was (the
// write happened, the answer is lost).
//
// A Chaos is seeded, safe for concurrent use and settable at run time. The
// sim server either wraps its handler with Wrap, exempting its own side door
// and the token endpoint, or asks Decide for each request (and
// DecideBatchItem for each request inside a $batch) and applies the Action
// itself.
//
// Sources: Graph's error format and the meaning of 500, 503 (with
// Retry-After) and 504 are from microsoft-graph-docs-contrib
// concepts/errors.md. Latency and fault rates are not published by
// Microsoft; the distribution and defaults are this package's choices and
// are documented where they are defined and in docs/sim-models.md.
//
// Only package sim and its tests import this package; it imports the
// standard library only.
package chaos
