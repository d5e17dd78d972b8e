// Package streamprop is a property test of the notification stream as a
// whole, at the HTTP level and with only real parts: random posts, edits,
// replacements by key, schedules, withdrawals and reads through the JSON
// API, posts to lists of users and groups, changes of membership, some at
// once, while browsers drop and resume with Last-Event-ID and instances
// restart, on one SQLite instance and on two instances sharing one
// PostgreSQL.
// Every client keeps a view as the feed page does; at the end each view
// must equal what the list API answers for that client, no stream byte
// may carry another user's notification (nor a post to a list the user is
// not on, nor the name of a group they are not in), and no connection
// may send a notification's `notification` twice or an `update` or
// `withdraw` for one it never had. It holds tests only.
//
//	go test -race ./app/streamprop/                          # about 5 s on 2 cores
//	BEACON_PROPERTY_SEED=N go test -race ./app/streamprop/   # the same operations as run N
//	BEACON_PROPERTY_SCALE=10 go test -race -timeout 30m ./app/streamprop/
//
// Without PostgreSQL (see app/pgtest) the two-instance variant skips.
package streamprop
