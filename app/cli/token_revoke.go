package cli

import (
	"context"
	"fmt"
	"strconv"

	"beacon/app/auth"
	"beacon/app/broker"
	"beacon/app/config"
	"beacon/app/store"
	"beacon/migrations"
)

// tokenRevoke runs `beacon token revoke ID_OR_TOKEN`: it deletes the token
// with that id (from `token list`), or the token itself, and tells every
// running instance, which refuses it at once.
func tokenRevoke(ctx context.Context, env Env, idOrToken string) error {
	cfg, st, err := openStore(env)
	if err != nil {
		return err
	}
	defer st.Close()
	if id, err := strconv.ParseInt(idOrToken, 10, 64); err == nil {
		t, err := st.DeleteAPIToken(ctx, id)
		if err != nil {
			return fmt.Errorf("token revoke: %w", err)
		}
		if _, err = fmt.Fprintf(env.Stdout, "Revoked token %d.\n", id); err != nil {
			return err
		}
		return tellInstances(ctx, env, cfg, st, t.UserID)
	}
	t, err := st.DeleteAPITokenByHash(ctx, auth.HashAPIToken(idOrToken))
	if err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	if _, err = fmt.Fprintf(env.Stdout, "Revoked token %d.\n", t.ID); err != nil {
		return err
	}
	return tellInstances(ctx, env, cfg, st, t.UserID)
}

// tellInstances publishes broker.TokensTopic on PostgreSQL, where running
// instances keep the tokens they checked (store.CacheTokens): each forgets
// them when it hears this; and the owner's topic, so that a stream the
// token opened ends. SQLite's instance keeps none, and its streams learn
// at their user's next wake-up.
func tellInstances(ctx context.Context, env Env, cfg config.Config, st *store.Store, owner int64) error {
	if st.Dialect() != migrations.Postgres {
		return nil
	}
	b, err := broker.NewPostgres(cfg.DatabaseURL, st.SQL(), env.Log)
	if err == nil {
		err = b.Publish(ctx, broker.TokensTopic)
	}
	if err == nil {
		err = b.Publish(ctx, broker.UserTopic(owner))
	}
	if err != nil {
		return fmt.Errorf("revoked, but the running instances could not be told, and may accept it for up to %v: %w", store.TokenCheckedFor, err)
	}
	return nil
}
