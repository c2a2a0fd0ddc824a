"""The storage side of pre-labeling jobs: what ``workers`` reads and writes through its
:class:`workers.ports.JobStore` interface, implemented on the database.

- :mod:`referee.jobs.store` -- the job's rows (lifecycle, claims, judgments), one transaction each;
- :mod:`referee.jobs.sql_store` -- :class:`~referee.jobs.sql_store.SqlJobStore`, the interface
  over an engine;
- :mod:`referee.jobs.summaries` -- the read-only queries of ``referee jobs`` / ``referee job ID``;
- :mod:`referee.jobs.config` -- a worker's configuration from the settings.

Nothing is imported here, so ``referee jobs`` loads only the light summaries.
"""
