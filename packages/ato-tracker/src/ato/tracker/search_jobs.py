"""The job queue of searches shared by several worker processes, public.

``SearchJobQueue(url_or_logger)`` is what ato-hyperopt's ``DatabaseExecutor`` takes (through
its ``JobQueue`` protocol; ato-hyperopt never imports the tracker): any number of processes
running the same search id against one database claim its jobs atomically, heartbeat while
they run them, record each result exactly once and take back the claims of workers that died.
Its one implementation is `ato.tracker.write.search_jobs`; the tables are ``search_queues`` and
``search_jobs`` (revision 0008).
"""

from .write.search_jobs import JOB_STATES, Plan, SearchJobQueue, SearchStatus, WorkerStatus

__all__ = ["JOB_STATES", "Plan", "SearchJobQueue", "SearchStatus", "WorkerStatus"]
