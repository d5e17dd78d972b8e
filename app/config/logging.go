package config

import (
	"fmt"
	"log/slog"
	"strings"
)

// Logging is how Beacon logs: LOG_LEVEL and LOG_FORMAT.
type Logging struct {
	Level slog.Level // debug, info (the default), warn or error
	JSON  bool       // LOG_FORMAT=json, for log drains; text otherwise
}

// LoadLogging reads LOG_LEVEL and LOG_FORMAT alone, so that main can build
// its logger before anything else is read (and logged).
func LoadLogging(getenv func(string) string) (Logging, error) {
	var l Logging
	switch v := strings.ToLower(strings.TrimSpace(getenv("LOG_LEVEL"))); v {
	case "", "info":
		l.Level = slog.LevelInfo
	case "debug":
		l.Level = slog.LevelDebug
	case "warn":
		l.Level = slog.LevelWarn
	case "error":
		l.Level = slog.LevelError
	default:
		// Not slog.Level's own parser: it takes "INFO+2" and the like,
		// which the contract does not promise.
		return l, fmt.Errorf("config: LOG_LEVEL=%q is not one of debug, info, warn, error", getenv("LOG_LEVEL"))
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("LOG_FORMAT"))); v {
	case "", "text":
	case "json":
		l.JSON = true
	default:
		return l, fmt.Errorf("config: LOG_FORMAT=%q is not text or json", getenv("LOG_FORMAT"))
	}
	return l, nil
}
