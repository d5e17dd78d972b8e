// Package cli is Beacon's command line: one file per subcommand.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"beacon/app/config"
	"beacon/app/store"
)

// Env is what a command may use of the process: its environment, its
// standard streams and its logger.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Log    *slog.Logger
}

const usage = `usage: beacon [command]

commands:
  serve                     run the web server (the default)
  migrate [up|down|status]  apply, roll back one, or list migrations
  admin create EMAIL        create or promote an admin (password from ADMIN_PASSWORD or stdin)
  admin revoke EMAIL        take admin rights (and API tokens) away; the user stays
  token create EMAIL [--name NAME]
                            print a new API token for that admin
  token list EMAIL          list that user's tokens: id, name, created, last used
  token revoke ID_OR_TOKEN  revoke a token by its id (from list) or itself
  group create NAME [--open]
                            create a group; --open makes it a topic users follow themselves
  group add NAME EMAIL...   put these users in the group (all or none)
  group remove NAME EMAIL...
                            take these users out of the group (all or none)
  group list                list groups: name, open or not, member count
  group delete NAME         delete a group
  webpush keys              print a new VAPID key pair: WEBPUSH_PUBLIC_KEY=… and WEBPUSH_PRIVATE_KEY=…
  bench [flags]             load a running Beacon and report (beacon bench -h)
  subscribe [flags] URL     follow a Beacon's notifications: a JSON line per event, --exec CMD per
                            notification (beacon subscribe -h)`

// ErrUsage is returned for a command line Beacon does not understand.
var ErrUsage = errors.New(usage)

// Run runs the command named by args.
func Run(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return serve(ctx, env)
	}
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "serve" && len(rest) == 0:
		return serve(ctx, env)
	case cmd == "migrate" && len(rest) <= 1:
		action := "up"
		if len(rest) == 1 {
			action = rest[0]
		}
		return migrate(ctx, env, action)
	case cmd == "admin" && len(rest) == 2 && rest[0] == "create":
		return adminCreate(ctx, env, rest[1])
	case cmd == "admin" && len(rest) == 2 && rest[0] == "revoke":
		return adminRevoke(ctx, env, rest[1])
	case cmd == "token" && len(rest) >= 2 && rest[0] == "create":
		return tokenCreate(ctx, env, rest[1:])
	case cmd == "token" && len(rest) == 2 && rest[0] == "list":
		return tokenList(ctx, env, rest[1])
	case cmd == "token" && len(rest) == 2 && rest[0] == "revoke":
		return tokenRevoke(ctx, env, rest[1])
	case cmd == "group" && len(rest) >= 2 && rest[0] == "create":
		return groupCreate(ctx, env, rest[1:])
	case cmd == "group" && len(rest) >= 3 && rest[0] == "add":
		return groupAdd(ctx, env, rest[1], rest[2:])
	case cmd == "group" && len(rest) >= 3 && rest[0] == "remove":
		return groupRemove(ctx, env, rest[1], rest[2:])
	case cmd == "group" && len(rest) == 1 && rest[0] == "list":
		return groupList(ctx, env)
	case cmd == "group" && len(rest) == 2 && rest[0] == "delete":
		return groupDelete(ctx, env, rest[1])
	case cmd == "bench":
		return benchCmd(ctx, env, rest)
	case cmd == "subscribe":
		return subscribeCmd(ctx, env, rest)
	case cmd == "webpush" && len(rest) == 1 && rest[0] == "keys":
		return webpushKeys(env)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		_, err := fmt.Fprintln(env.Stdout, usage)
		return err
	}
	return ErrUsage
}

// openStore loads the config and opens its database.
func openStore(env Env) (config.Config, *store.Store, error) {
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return cfg, nil, err
	}
	st, err := store.Open(cfg.DatabaseURL)
	return cfg, st, err
}

// openMigrated is openStore, then the pending migrations unless
// MIGRATE=false: what serve and admin create start with.
func openMigrated(ctx context.Context, env Env) (config.Config, *store.Store, error) {
	cfg, st, err := openStore(env)
	if err != nil {
		return cfg, nil, err
	}
	if cfg.Migrate {
		if err := st.Migrate(ctx, env.Log); err != nil {
			st.Close()
			return cfg, nil, err
		}
	}
	return cfg, st, nil
}
