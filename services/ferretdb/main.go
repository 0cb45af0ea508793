// Command ferretdb-local runs an embedded FerretDB v1 on PostgreSQL for local development and
// tests (PostgreSQL because its backend, unlike SQLite's, pushes equality filters down to SQL,
// where indexes serve them: see postgresql-gin-indexes.sql). We embed FerretDB instead of `go install`-ing its
// cmd/ferretdb because that binary panics without its generated version.txt.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL URL of the database FerretDB stores in (required)")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listenAddr, *postgresURL, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb-local:", err)
		os.Exit(1)
	}
}

func run(listenAddr, postgresURL, logLevel string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("invalid -log-level: %w", err)
	}
	logger := slog.New(deferredHandler{base: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})

	if postgresURL == "" {
		return fmt.Errorf("-postgresql-url is required")
	}

	// Cancel on SIGINT/SIGTERM; Run then closes listeners and the backend, giving
	// still-connected clients up to ~3s (FerretDB's own grace period) first.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// New binds the listener, so "address already in use" is reported here.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: postgresURL,
	})
	if err != nil {
		return err
	}

	return f.Run(ctx)
}

// deferredHandler applies a logger's With attributes and groups only to records that are logged.
// slog's own handlers format them at With, whatever the level, and FerretDB attaches each SQL
// statement's arguments (the documents it writes) to its logger before every statement: at the
// error level, formatting them took a sixth of FerretDB's time on a bulk insert.
type deferredHandler struct {
	base slog.Handler
	with []func(slog.Handler) slog.Handler
}

func (h deferredHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

func (h deferredHandler) Handle(ctx context.Context, record slog.Record) error {
	handler := h.base
	for _, apply := range h.with {
		handler = apply(handler)
	}
	return handler.Handle(ctx, record)
}

func (h deferredHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.then(func(handler slog.Handler) slog.Handler { return handler.WithAttrs(attrs) })
}

func (h deferredHandler) WithGroup(name string) slog.Handler {
	return h.then(func(handler slog.Handler) slog.Handler { return handler.WithGroup(name) })
}

func (h deferredHandler) then(apply func(slog.Handler) slog.Handler) slog.Handler {
	// Clipped, so that loggers derived from the same parent never share appended steps.
	return deferredHandler{base: h.base, with: append(slices.Clip(h.with), apply)}
}
