package apptest

import "beacon/app/store"

// Remote is an App for a Beacon that runs elsewhere (a subprocess of the
// built binary) at url, on st's database: its clients, streams and chat
// sockets work as those of an App from New, and CreateUser and Token write
// to the shared database. It has no Server: start and stop the process
// yourself.
func Remote(url string, st *store.Store) *App { return &App{URL: url, Store: st} }
