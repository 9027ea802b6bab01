"""Event logs of an experiment: the schema, an embedded DuckDB store, and metrics in SQL.

An experiment platform does not see "conversions per arm": it sees a stream of events
(exposures, page views, clicks, purchases), each one a row with the fields of
:data:`EVENT_SCHEMA`. This module stores such a stream and turns it into the numbers a test
needs, in SQL, the way an analysis pipeline does.

:class:`EventStore` keeps the events in DuckDB, an embedded database: in memory or in one
file, no server. Ingestion is idempotent (an event whose ``event_id`` is already stored is a
duplicate and adds nothing) and never crashes on a bad event: a malformed event goes to the
``quarantine`` table with the reason, one of :data:`QUARANTINE_REASONS`.

The metric queries are module constants collected in :data:`METRIC_SQL`, so a chapter can
print the SQL it runs. They are written in portable SQL: common table expressions, ``JOIN``,
``GROUP BY``, the window functions ``LAG`` and ``SUM ... OVER``, ``CASE``, ``COALESCE``,
``NULLIF``, ``CAST(... AS DATE)``, ``CAST(... AS BIGINT)`` and the aggregates ``COUNT``,
``SUM``, ``AVG``, ``MIN``, ``MAX``, ``VAR_SAMP`` and ``COVAR_SAMP``, with no DuckDB-only
function (no ``epoch_ms``, ``list``, ``QUALIFY``, ``::`` casts or ``->>``). They run
unchanged on Spark SQL and BigQuery against a table named ``events`` with the columns of
:data:`EVENT_SCHEMA`. The one construct that differs from the ISO standard is the
session gap, written ``INTERVAL 30 MINUTE`` (the form DuckDB, Spark SQL and BigQuery all
accept; ISO SQL and PostgreSQL spell it ``INTERVAL '30' MINUTE``). The ingestion SQL, which
parses and checks raw input, does use DuckDB functions (``TRY_CAST``, ``isfinite``, the
JSON functions); it is plumbing, not analysis.

Timestamps are stored as ``TIMESTAMP`` holding UTC wall-clock time, so that
``CAST(timestamp AS DATE)`` is the UTC day on every engine.

References
----------
Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 13 (instrumentation),
ch. 20 (triggering) and ch. 21 (data quality).
Deng, A. & Hu, V. (2015), Diluted treatment effect estimation for trigger analysis in online
controlled experiments, *WSDM*.
"""

from __future__ import annotations

from abteach.events.schema import (
    EARLIEST_TIMESTAMP,
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    EVENT_TYPES,
    LATEST_TIMESTAMP,
    QUARANTINE_REASONS,
    SESSION_GAP_MINUTES,
    TRIGGER_EVENT,
    VARIANTS,
    SchemaField,
)
from abteach.events.sql import (
    ARM_SUMMARY_SQL,
    DAILY_SQL,
    DILUTION_SQL,
    EXPOSED_EVENTS_SQL,
    METRIC_SQL,
    TRIGGERED_SQL,
    USER_METRICS_SQL,
)
from abteach.events.store import (
    DEFAULT_MEMORY_LIMIT,
    MAX_THREADS,
    MIN_MEMORY_LIMIT,
    EventStore,
    IngestResult,
)

__all__ = [
    "ARM_SUMMARY_SQL",
    "DAILY_SQL",
    "DEFAULT_MEMORY_LIMIT",
    "DILUTION_SQL",
    "EARLIEST_TIMESTAMP",
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "EVENT_TYPES",
    "EXPOSED_EVENTS_SQL",
    "LATEST_TIMESTAMP",
    "MAX_THREADS",
    "METRIC_SQL",
    "MIN_MEMORY_LIMIT",
    "QUARANTINE_REASONS",
    "SESSION_GAP_MINUTES",
    "TRIGGERED_SQL",
    "TRIGGER_EVENT",
    "USER_METRICS_SQL",
    "VARIANTS",
    "EventStore",
    "IngestResult",
    "SchemaField",
]
