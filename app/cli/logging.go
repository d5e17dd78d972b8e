package cli

import (
	"io"
	"log/slog"

	"beacon/app/config"
)

// NewLogger is the process's logger as LOG_LEVEL and LOG_FORMAT ask: text
// lines for a terminal, or one JSON object a line for a log drain.
func NewLogger(w io.Writer, l config.Logging) *slog.Logger {
	opts := &slog.HandlerOptions{Level: l.Level}
	if l.JSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
