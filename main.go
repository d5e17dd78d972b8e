// Beacon is a live notifications web app: admins post notifications, and
// every browser that may see one receives it at once over Server-Sent
// Events. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"beacon/app/cli"
	"beacon/app/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// The logger comes first, so that everything after it logs as asked.
	logging, err := config.LoadLogging(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "beacon:", err)
		os.Exit(1)
	}
	logger := cli.NewLogger(os.Stderr, logging)
	err = cli.Run(ctx, os.Args[1:], cli.Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Log: logger})
	if errors.Is(err, cli.ErrUsage) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err != nil {
		logger.Error("beacon failed", "err", err)
		os.Exit(1)
	}
}
