"""The write room of ato.tracker: recording runs.

`logger` (``SQLLogger``), `buffer` (metrics buffered and flushed by a thread), `inserts`
(exactly-once metric inserts), `rows`, `fold` (the summaries kept at write time), `spool` (rows
kept on disk while the database is unreachable), `heartbeat`, `signals` and `exits` (runs
finished at SIGTERM and exit), `marks` (``ato runs mark``), `validation`, `provenance`,
`fingerprints` and `system_metrics` (CPU, memory, I/O and GPU sampled while a run is active).

Depends on the storage room and, to return results and find rows it writes to, on the read
room; nothing depends on it but the entry points (``ato.tracker``, the CLI, the importers,
``ato.tracker.hydra``). Private to ato-tracker.
"""

__all__: list[str] = []
