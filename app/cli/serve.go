package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"beacon/app/config"
	"beacon/app/server"
	"beacon/app/store"
)

// shutdownGrace is how long open requests get to finish after SIGTERM;
// PaaS routers allow 10 s before they kill the process.
const shutdownGrace = 8 * time.Second

// serve runs `beacon serve` until ctx ends (SIGTERM), then shuts down:
// stop accepting, end every stream so browsers reconnect elsewhere, drain.
func serve(ctx context.Context, env Env) error {
	cfg, st, err := openMigrated(ctx, env)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.SecretMissing {
		env.Log.Warn("SECRET_KEY_BASE is not set: generated one for this run, so sessions end when it stops")
	}
	if err := bootstrapAdmin(ctx, env, cfg, st); err != nil {
		return err
	}

	b, err := server.NewBroker(cfg, st, env.Log)
	if err != nil {
		return err
	}
	app, err := server.New(ctx, cfg, st, b, env.Log, server.Tuning{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", ":"+cfg.Port)
	if err != nil {
		return fmt.Errorf("listen on port %s: %w", cfg.Port, err)
	}
	hubCtx, stopHubs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHubs()
	// No WriteTimeout: it would cut every stream. Slow writers are bounded
	// per write by the stream itself.
	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	// Shutdown waits for active requests but does not end streams: ending
	// the hubs does.
	srv.RegisterOnShutdown(stopHubs)

	hubDone := make(chan error, 1)
	go func() { hubDone <- app.Run(hubCtx) }()
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()
	env.Log.Info("beacon listening", "addr", ln.Addr().String(), "database", dbKind(cfg))

	select {
	case <-ctx.Done():
		env.Log.Info("shutting down")
	case err := <-serveDone:
		stopHubs()
		<-hubDone
		return fmt.Errorf("serve: %w", err)
	case err := <-hubDone:
		_ = srv.Close()
		return fmt.Errorf("notification hub: %w", err)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	stopHubs()
	if hubErr := <-hubDone; hubErr != nil {
		env.Log.Error("notification hub", "err", hubErr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Requests still running after the grace period are cut: the
		// clients retry elsewhere, and the exit is still a clean one.
		env.Log.Warn("shutdown: grace period over, closing the connections left", "grace", shutdownGrace)
		_ = srv.Close()
	} else if err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	env.Log.Info("stopped")
	return nil
}

// bootstrapAdmin makes sure the admin named by ADMIN_EMAIL exists, or says
// how to create one when there is none.
func bootstrapAdmin(ctx context.Context, env Env, cfg config.Config, st *store.Store) error {
	if cfg.AdminEmail != "" && cfg.AdminPassword != "" {
		u, err := ensureAdmin(ctx, st, cfg.AdminEmail, cfg.AdminPassword)
		if err != nil {
			return err
		}
		env.Log.Info("admin ready", "email", u.Email)
		return nil
	}
	has, err := st.HasAdmin(ctx)
	if err != nil {
		return err
	}
	if !has {
		env.Log.Warn("no admin yet: restart with ADMIN_EMAIL and ADMIN_PASSWORD set, or run: go run . admin create you@example.com")
	}
	return nil
}

func dbKind(cfg config.Config) string {
	if store.IsPostgres(cfg.DatabaseURL) {
		return "postgresql"
	}
	return "sqlite:" + cfg.DatabaseURL
}
