"""The storage room of ato.tracker: the database and everything that touches its shape.

`database` (the `Database` handle: a URL parsed once, engines cached per process), `engine`
(engine creation, SQLite pragmas, time-bounded server connections, retried transactions),
`models` (the tables), `schema`, `revisions` and `migrate` (schema versions and upgrades;
the scripts live in ``ato/tracker/migrations``), `values` (metric value encoding),
`normalize` (configs as stored JSON and their hash), `statuses` (the stored run statuses),
`settings` (URLs, timeouts and spool location from a config), `clock` (the database's clock)
and `versions`.

Depends on nothing else of ato.tracker but `ato.tracker.errors`; the write and read rooms
depend on it. Private to ato-tracker: other packages use the names ``ato.tracker`` exports.
"""

__all__: list[str] = []
