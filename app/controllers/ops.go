package controllers

import "net/http"

// Ops is what the routes need to operate the app rather than to serve its
// pages: filled in server.New beside the Controller.
type Ops struct {
	// Metrics serves Prometheus' text format; MetricsToken is the bearer
	// token it asks for, and "" turns /metrics off.
	Metrics      http.Handler
	MetricsToken string
}
