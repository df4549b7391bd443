"""Sentry compatibility: any Sentry SDK can point its DSN at recoup.

`envelope` parses the envelope wire format, `auth` finds the ingest key (``X-Sentry-Auth``, the
``sentry_key`` query parameter, or the envelope's ``dsn``), `event` turns a Sentry event into a
`recoup.store.NewEvent`. The HTTP side lives in `recoup.server.routes.sentry`.
"""
