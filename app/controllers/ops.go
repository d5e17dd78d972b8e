package controllers

import (
	"context"
	"net/http"
	"time"
)

// Ops is what the routes need to operate the app rather than to serve its
// pages: filled in server.New beside the Controller.
type Ops struct {
	// Metrics serves Prometheus' text format; MetricsToken is the bearer
	// token it asks for, and "" turns /metrics off.
	Metrics      http.Handler
	MetricsToken string
	// ReadBound is how long an ordinary request may take to send itself
	// (DefaultReadBound when zero); once Draining ends, reads pending are
	// cut at once.
	ReadBound time.Duration
	Draining  context.Context
	// Limits caps the streams, long polls and chat sockets per user and
	// per visitor address.
	Limits ConnectionLimiter
}
