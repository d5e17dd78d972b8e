// Package cluster tests Beacon as it is deployed: several built
// `beacon serve` processes on one PostgreSQL schema, which must behave as
// one Beacon (posting, streaming, long polling, chat, sign-out, terminated
// connections, a rolling SIGTERM), and measurements of the built binary
// that run only when asked (BEACON_MEASURE_STREAMS, BEACON_MEASURE_PUBLISH).
// It holds only tests; without PostgreSQL the cluster tests skip.
package cluster
