"""The read room of ato.tracker: querying what was recorded, without writing.

`finder` (``SQLFinder``), `queries` and `overview` (Core queries on an open connection),
`series` (downsampled metric series), `summaries` (the per-key summaries, read side),
`results` (the detached result objects), `frames` and `dataframes` (pandas tables),
`answers` (the search-answer rule), `status` (``crashed`` derived from heartbeats), `params`,
`modes`, `names` and `keypatterns`.

Depends on the storage room only. Private to ato-tracker: other packages use the names
``ato.tracker`` exports (``ato.tracker.answers`` for the answer rule).
"""

__all__: list[str] = []
