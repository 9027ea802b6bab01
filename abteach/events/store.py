"""The event store: DuckDB in memory or in a file, idempotent ingestion, quarantine (chapter 4).

DuckDB and pyarrow are imported on first use, so ``import abteach.events`` stays light.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from abteach._records import Record
from abteach._validate import check_choice, check_int
from abteach.events.schema import _CHECKS, EVENT_COLUMNS, EVENT_SCHEMA
from abteach.events.sql import METRIC_SQL


def _duckdb():
    """The duckdb module, imported on first use (``import abteach.events`` stays light)."""
    import duckdb

    return duckdb


def _pyarrow():
    """pyarrow and pyarrow.parquet, imported on first use."""
    import pyarrow
    import pyarrow.parquet

    return pyarrow, pyarrow.parquet


# --------------------------------------------------------------------------------------
# Ingestion: read any source into a view `incoming` with the raw fields, then check them.

_TEXT_FIELDS = ("event_id", "unit_id", "experiment", "variant", "event_type")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


def _reason_sql() -> str:
    """The CASE expression naming the first check an event fails (NULL when it passes)."""
    whens = "\n".join(f"        WHEN {test} THEN '{reason}'" for reason, test in _CHECKS.items())
    return f"CASE\n        WHEN problem IS NOT NULL THEN problem\n{whens}\n    END"


def _checked_sql(types: dict[str, str]) -> str:
    """SELECT the parsed fields, the raw ones (``<name>_raw``) and the reason from `incoming`.

    ``types`` maps the columns of `incoming` to their DuckDB types; a schema column that
    is absent is read as NULL (and the event quarantined if the field is required).
    """

    def raw(name: str) -> str:
        return name if name in types else "CAST(NULL AS VARCHAR)"

    if types.get("timestamp", "VARCHAR").startswith(("TIMESTAMP", "DATE")):
        timestamp = "CAST(timestamp AS TIMESTAMP)"  # a zoned timestamp is converted to UTC
    else:
        timestamp = (f"CAST(TRY_CAST(CAST({raw('timestamp')} AS VARCHAR) AS TIMESTAMPTZ) "
                     "AS TIMESTAMP)")
    fields = "".join(
        f"NULLIF(CAST({raw(name)} AS VARCHAR), '') AS {name},\n           "
        for name in _TEXT_FIELDS
    )
    raws = ",\n           ".join(f"{raw(name)} AS {name}_raw" for name in EVENT_COLUMNS)
    return f"""\
SELECT *, {_reason_sql()} AS reason
FROM (
    SELECT {fields}TRY_CAST({raw('revenue')} AS DOUBLE) AS revenue,
           {timestamp} AS timestamp,
           {raws},
           problem, raw
    FROM incoming
) AS parsed"""


_JSON_LINES_SQL = """\
SELECT problem, line AS raw,
       {fields}
FROM (
    SELECT line,
           CASE WHEN NOT json_valid(line) THEN 'invalid JSON'
                WHEN json_type(valid) <> 'OBJECT' THEN 'not a JSON object' END AS problem,
           CASE WHEN json_type(valid) = 'OBJECT' THEN valid ELSE '{{}}' END AS object
    FROM (
        SELECT line, CASE WHEN json_valid(line) THEN line ELSE 'null' END AS valid
        FROM (
            SELECT rtrim(unnest(string_split(content, chr(10))), chr(13)) AS line
            FROM read_text(?)
        ) AS lines
        WHERE trim(line) <> ''
    ) AS checked
) AS objects"""


#: Default cap on DuckDB's memory. The chapters need 0.3-0.6 GB at most, and Binder gives 2 GB.
DEFAULT_MEMORY_LIMIT = "512MB"
#: The smallest ``memory_limit`` accepted. Below it DuckDB cannot ingest a batch.
MIN_MEMORY_LIMIT = "64MB"
_MIN_MEMORY_BYTES = 64 * 10**6
#: The most threads a store may ask for.
MAX_THREADS = 64
_MEMORY_UNITS = {
    "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
_MEMORY_PATTERN = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*", re.IGNORECASE)


def _memory_bytes(memory_limit) -> int:
    """Bytes of a size such as ``"512MB"`` or ``"2 GiB"``, at least ``MIN_MEMORY_LIMIT``."""
    if not isinstance(memory_limit, str):
        raise TypeError(f"memory_limit must be None or a str such as '512MB', "
                        f"got {memory_limit!r}")
    match = _MEMORY_PATTERN.fullmatch(memory_limit)
    if match is None or match.group(2).lower() not in _MEMORY_UNITS:
        raise ValueError(
            "memory_limit must be a size such as '512MB' or '2GiB' (a number and one of the "
            f"units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), got {memory_limit!r}"
        )
    size = float(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()]
    if size < _MIN_MEMORY_BYTES:
        raise ValueError(f"memory_limit must be at least {MIN_MEMORY_LIMIT}, got {memory_limit!r}")
    if size > 2**62:
        raise ValueError(f"memory_limit must be at most 4 EiB, got {memory_limit!r}")
    return int(size)


def _connect(path: Path | None, config: dict):
    """Open DuckDB; a path that cannot hold a database raises an OSError quoting it."""
    duckdb = _duckdb()
    try:
        return duckdb.connect(":memory:" if path is None else str(path), config=config)
    except duckdb.Error as exc:
        raise _open_error(path, exc) from exc


def _open_error(path: Path | None, exc: Exception) -> Exception:
    """The clearest error for a database that did not open: what is wrong with ``path``."""
    where = f"path {str(path)!r}"
    if path is None:
        return OSError(f"could not open an in-memory DuckDB database: {exc}")
    if path.is_dir():
        return IsADirectoryError(f"{where} is a folder; give the name of a database file in it")
    if not path.parent.is_dir():
        return FileNotFoundError(
            f"{where}: the folder {str(path.parent)!r} does not exist; create it first")
    if path.is_file() and "not a valid DuckDB database" in str(exc):
        return ValueError(f"{where} is not a DuckDB database file: {exc}")
    if not path.exists():
        return PermissionError(f"{where}: cannot create a database file in the folder "
                               f"{str(path.parent)!r} ({exc})")
    return OSError(f"{where}: cannot open the database ({exc})")


@dataclass(frozen=True, repr=False, eq=False)
class IngestResult(Record):
    """What one call of :meth:`EventStore.ingest` did with the rows it read.

    ``rows = ingested + duplicates + quarantined``. A duplicate is a valid event whose
    ``event_id`` was already stored (or appeared earlier in the same batch), or a malformed
    row identical (in every field) to one already in quarantine or earlier in the batch.
    """

    rows: int
    ingested: int
    duplicates: int
    quarantined: int


class EventStore:
    """Events of experiments in an embedded DuckDB database, with metrics in SQL.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Database file, created if needed and reopened with its events later. ``None``
        (the default) keeps everything in memory.
    memory_limit : str or None
        Cap on DuckDB's memory, a size such as ``"512MB"`` (the default) or ``"2GiB"``, at
        least ``MIN_MEMORY_LIMIT``; ``None`` leaves DuckDB's own default (80% of the RAM).
        Above it DuckDB spills to a temporary directory: ``<path>.tmp`` for a file,
        ``.tmp`` in the working directory for an in-memory store. A file-backed store
        also compresses its events, so it is the one to use for tens of millions of
        events on a small machine.
    threads : int
        Threads DuckDB computes with, 1 (the default) to ``MAX_THREADS``. More threads
        speed up queries on millions of events, at about 72 MB of address space each.

    Notes
    -----
    Two tables: ``events`` (the columns of :data:`~abteach.events.EVENT_SCHEMA`) and ``quarantine`` (the
    raw text of every field of a rejected event, the raw JSON line when it came from JSON
    lines, and the ``reason``). Use the store as a context manager, or call :meth:`close`.

    The store fits a memory cap such as Binder's 2 GB: besides ``memory_limit``, DuckDB
    runs with ``threads`` threads and no asynchronous I/O threads (``async_threads = 0``).
    Each thread reserves address space (a stack and a malloc arena, about 72 MB), and
    DuckDB's defaults (a thread per core plus eight I/O threads, for every open store)
    reserved 0.6-0.7 GB per store before the first query, so that a chapter with a few
    stores failed under a 2 GiB address-space limit (``prlimit --as``) while it used
    0.3-0.6 GB of memory.

    Examples
    --------
    >>> with EventStore() as store:
    ...     store.query("SELECT COUNT(*) AS n FROM events")["n"].item()
    0
    """

    def __init__(self, path=None, *, memory_limit=DEFAULT_MEMORY_LIMIT, threads: int = 1):
        if path is not None and not isinstance(path, (str, Path)):
            raise TypeError(f"path must be None, a str or a pathlib.Path, got {path!r}")
        if path is not None and (not str(path).strip() or "\x00" in str(path)):
            raise ValueError(f"path must name a file (or be None for memory), got {path!r}")
        config = {
            "threads": check_int("threads", threads, minimum=1, maximum=MAX_THREADS),
            "async_threads": 0,
        }
        if memory_limit is not None:
            config["memory_limit"] = f"{_memory_bytes(memory_limit)}B"
        self.path = None if path is None else Path(path)
        self._con = None
        self._con = _connect(self.path, config)
        # DuckDB draws a progress bar (a widget in Jupyter) for queries slower than 2 s,
        # which would make a notebook's stored output depend on the machine's speed.
        self._con.execute("SET enable_progress_bar = false")
        self._con.execute("SET TimeZone = 'UTC'")
        columns = ",\n    ".join(f"{field.name} {field.sql_type}" for field in EVENT_SCHEMA)
        raw_columns = ",\n    ".join(f"{name}_text VARCHAR" for name in EVENT_COLUMNS)
        self._con.execute(f"CREATE TABLE IF NOT EXISTS events (\n    {columns}\n)")
        self._con.execute(
            f"CREATE TABLE IF NOT EXISTS quarantine (\n    {raw_columns},\n"
            "    raw VARCHAR,\n    reason VARCHAR\n)"
        )

    # -- life cycle -------------------------------------------------------------------

    def close(self) -> None:
        """Close the database (a file-backed store keeps its events for the next open)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "memory" if self.path is None else str(self.path)
        if self._con is None:
            return f"EventStore({where}, closed)"
        events, quarantined = self._connection.execute(
            "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM quarantine)"
        ).fetchall()[0]
        return f"EventStore({where}, events={events}, quarantined={quarantined})"

    @property
    def _connection(self):
        if self._con is None:
            raise ValueError("the EventStore is closed")
        return self._con

    # -- ingestion --------------------------------------------------------------------

    def ingest(self, data) -> IngestResult:
        """Add events, skipping the ones already stored and quarantining malformed ones.

        Parameters
        ----------
        data : pandas.DataFrame, str or pathlib.Path
            A DataFrame with the columns of :data:`~abteach.events.EVENT_SCHEMA` (other columns are
            ignored), or the path of a JSON lines file (``.jsonl``, ``.ndjson``,
            ``.json``: one JSON object per line; the file is read whole, so prefer
            Parquet for big data) or of a Parquet file (``.parquet``, ``.pq``).
            Timestamps may be datetimes or ISO 8601 strings; one without a time zone is
            taken as UTC, one with an offset is converted to UTC.

        Returns
        -------
        IngestResult
            Counts of rows read, events ingested, duplicates and quarantined events.

        Notes
        -----
        Each event is checked in the order of :data:`~abteach.events.QUARANTINE_REASONS`; the first
        failure is its ``reason`` in the ``quarantine`` table. Valid events are
        deduplicated on ``event_id``: against the stored events, and within the batch,
        where the copy with the earliest timestamp is kept. Ingesting the same data
        twice therefore adds nothing the second time (identical malformed rows are not
        quarantined twice either). The batch is one transaction: on an unexpected
        error nothing is stored.
        """
        con = self._connection
        duckdb = _duckdb()
        finished = False
        try:
            self._create_incoming(data)
            types = dict(con.execute(
                "SELECT column_name, column_type FROM (DESCRIBE incoming)").fetchall())
            con.execute(f"CREATE TEMP VIEW checked AS\n{_checked_sql(types)}")
            con.execute("BEGIN TRANSACTION")
            committing = False
            try:
                result = self._insert_checked()
                committing = True
                con.execute("COMMIT")
            except BaseException as exc:
                _roll_back(con)
                if isinstance(exc, duckdb.Error) and (committing or isinstance(
                        exc, duckdb.IOException)):  # e.g. a full disk
                    raise OSError(f"ingest could not write to the store {self._where()}: {exc}; "
                                  "nothing of this batch was stored") from exc
                raise
            finished = True
        finally:
            self._drop_incoming(quiet=not finished)
        return result

    def _drop_incoming(self, *, quiet: bool) -> None:
        """Drop the batch's views; when the batch failed, its error is the one to see."""
        con = self._connection
        try:
            con.execute("DROP VIEW IF EXISTS checked")
            con.execute("DROP VIEW IF EXISTS incoming")
            con.execute("DROP TABLE IF EXISTS incoming_rows")
            con.unregister("incoming_table")
        except _duckdb().Error:
            if not quiet:
                raise

    def _where(self) -> str:
        return "in memory" if self.path is None else repr(str(self.path))

    def _create_incoming(self, data) -> None:
        """Create the view `incoming`: the schema's columns of ``data`` as they came."""
        con = self._connection
        if isinstance(data, pd.DataFrame):
            table = _arrow_table(data)
        else:
            path = _source_path(data)
            if path.suffix.lower() in _JSON_SUFFIXES:
                fields = ",\n       ".join(
                    f"json_extract_string(object, '$.{name}') AS {name}"
                    for name in EVENT_COLUMNS
                )
                try:  # a view cannot take a parameter: materialize the file's rows once
                    con.execute("CREATE TEMP TABLE incoming_rows AS "
                                + _JSON_LINES_SQL.format(fields=fields), [str(path)])
                except _duckdb().Error as exc:
                    raise ValueError(f"data: could not read {str(data)!r}: {exc}") from None
                con.execute("CREATE TEMP VIEW incoming AS SELECT * FROM incoming_rows")
                return
            pa, pq = _pyarrow()
            try:
                table = pq.read_table(path)
            except (pa.ArrowException, OSError) as exc:
                raise ValueError(f"data: could not read {str(data)!r}: {exc}") from None
            table = _schema_table(
                {name: table[name] for name in EVENT_COLUMNS if name in table.column_names},
                table.num_rows,
            )
        con.register("incoming_table", table)
        present = [name for name in EVENT_COLUMNS if name in table.column_names]
        con.execute(
            "CREATE TEMP VIEW incoming AS SELECT "
            + "".join(f"{name}, " for name in present)
            + "CAST(NULL AS VARCHAR) AS problem, CAST(NULL AS VARCHAR) AS raw "
            "FROM incoming_table"
        )

    def _insert_checked(self) -> IngestResult:
        con = self._connection
        (rows,) = con.execute("SELECT COUNT(*) FROM incoming").fetchall()[0]
        texts = "".join(f"CAST({name}_raw AS VARCHAR), " for name in EVENT_COLUMNS)
        (quarantined,) = con.execute(f"""
            INSERT INTO quarantine
            SELECT {texts}raw, reason FROM checked WHERE reason IS NOT NULL
            EXCEPT
            SELECT * FROM quarantine""").fetchall()[0]
        columns = ", ".join(EVENT_COLUMNS)
        (ingested,) = con.execute(f"""
            INSERT INTO events
            SELECT {columns}
            FROM (
                SELECT {columns},
                       ROW_NUMBER() OVER (
                           PARTITION BY event_id
                           ORDER BY timestamp, unit_id, experiment, variant, event_type, revenue
                       ) AS copy
                FROM checked
                WHERE reason IS NULL
            ) AS fresh
            WHERE copy = 1
              AND NOT EXISTS (SELECT 1 FROM events AS stored
                              WHERE stored.event_id = fresh.event_id)""").fetchall()[0]
        return IngestResult(
            rows=rows,
            ingested=ingested,
            duplicates=rows - ingested - quarantined,
            quarantined=quarantined,
        )

    # -- queries ----------------------------------------------------------------------

    def query(self, sql: str) -> pd.DataFrame:
        """Run any SQL on the store (tables ``events`` and ``quarantine``) into a DataFrame."""
        if not isinstance(sql, str):
            raise TypeError(f"sql must be a str, got {type(sql).__name__}")
        con = self._connection
        try:
            return con.execute(sql).df()
        except _duckdb().Error as exc:
            raise ValueError(f"sql could not run: {exc}") from exc

    def metrics(self, name: str, *, experiment: str | None = None) -> pd.DataFrame:
        """Run the metric query ``METRIC_SQL[name]`` and return its rows.

        Parameters
        ----------
        name : {"exposed_events", "users", "arms", "daily", "triggered", "dilution"}
            Which query of :data:`~abteach.events.METRIC_SQL`.
        experiment : str, optional
            Keep only this experiment's rows (all experiments by default).

        Returns
        -------
        pandas.DataFrame
            The query's rows. A value the data do not define (the variance of a single
            unit, a rate among no triggered unit) is NULL in SQL and NaN here.
        """
        sql = METRIC_SQL[check_choice("name", name, METRIC_SQL)]
        if experiment is not None:
            known = [row[0] for row in self._connection.execute(
                "SELECT DISTINCT experiment FROM events ORDER BY experiment").fetchall()]
            check_choice("experiment", experiment, known)
        result = self.query(sql)
        if experiment is not None:
            result = result[result["experiment"] == experiment].reset_index(drop=True)
        return result


def _roll_back(con) -> None:
    """Roll back the batch's transaction if it is still open.

    A statement that fails inside a transaction may already have ended it (DuckDB does so
    when a commit cannot write), and ROLLBACK would then fail with "cannot rollback - no
    transaction is active", hiding the real cause: that second failure is ignored.
    """
    try:
        con.execute("ROLLBACK")
    except _duckdb().Error:
        pass


def _source_path(data) -> Path:
    """Check that ``data`` names an existing JSON lines or Parquet file."""
    if not isinstance(data, (str, Path)):
        raise TypeError(
            "data must be a pandas DataFrame or the path of a JSON lines or Parquet "
            f"file, got {type(data).__name__}"
        )
    path = Path(data)
    if path.suffix.lower() not in _PARQUET_SUFFIXES + _JSON_SUFFIXES:
        raise ValueError(
            "data must be a JSON lines file (.jsonl, .ndjson, .json) or a Parquet file "
            f"(.parquet, .pq), got {str(data)!r}"
        )
    if not path.is_file():
        raise FileNotFoundError(f"data: no such file {str(data)!r}")
    return path


def _arrow_table(frame: pd.DataFrame):
    """The schema's columns of ``frame`` as an Arrow table (DuckDB scans Arrow fastest).

    A column that Arrow cannot convert (Python objects of mixed types) becomes text, which
    always fits; missing values stay missing.
    """
    if frame.columns.duplicated().any():
        duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise ValueError(f"data has duplicated columns {duplicated}")
    pa, _ = _pyarrow()
    columns = {}
    for name in EVENT_COLUMNS:
        if name in frame.columns:
            try:
                columns[name] = pa.Array.from_pandas(frame[name])
            except (pa.ArrowException, TypeError, ValueError):
                columns[name] = pa.Array.from_pandas(frame[name].astype("string"))
    return _schema_table(columns, len(frame))


def _schema_table(columns: dict, rows: int):
    """A table of the schema's columns found in the input (a placeholder if none was)."""
    pa, _ = _pyarrow()
    return pa.table(columns) if columns else pa.table({"no_schema_column": pa.nulls(rows)})
