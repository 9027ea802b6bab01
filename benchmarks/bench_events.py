"""Benchmark: simulate, ingest and aggregate an event log of about 10 million events.

Run with ``python benchmarks/bench_events.py [n_users] [memory_limit]``: 1,200,000 users
give about 10 million events; DuckDB's memory is capped at ``memory_limit`` (default
"1GB"). The events go into a file-backed :class:`~abteach.events.EventStore` in a
temporary directory (a file-backed store compresses its events; an in-memory one keeps
them uncompressed in RAM). Reported:

* the time to simulate the events;
* ingest: events per second for the DataFrame, then for the same events again from a
  Parquet file (all duplicates: the idempotent path);
* the time of each metric query of ``METRIC_SQL`` and their total;
* the peak resident memory of the process, ``resource.getrusage(...).ru_maxrss``
  (KiB on Linux).

Times are wall clock and CPU time of the process (all threads); on a shared machine the
CPU time is the steadier of the two.
"""

from __future__ import annotations

import gc
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from abteach.events import METRIC_SQL, EventStore
from abteach.simulate import simulate_events


def peak_memory_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def timed(label: str, function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<34} {wall:7.2f} s wall {cpu:7.2f} s CPU   peak memory "
          f"{peak_memory_gb():.2f} GB", flush=True)
    return result, wall


def main(n_users: int = 1_200_000, memory_limit: str = "1GB") -> None:
    print(f"simulated users: {n_users:,}; DuckDB memory_limit: {memory_limit}")
    (events, truth), _ = timed(
        "simulate",
        lambda: simulate_events(n_users, days=14, p_purchase=0.2, lift=0.1,
                                revenue_mean=50.0, rng=2024),
    )
    n_events = len(events)
    print(f"  {n_events:,} events")
    with tempfile.TemporaryDirectory() as folder:
        parquet = Path(folder) / "events.parquet"
        timed("write Parquet (not ingest)", lambda: pq.write_table(
            pa.Table.from_pandas(events, preserve_index=False), parquet))
        with EventStore(Path(folder) / "events.duckdb", memory_limit=memory_limit) as store:
            result, seconds = timed("ingest DataFrame", lambda: store.ingest(events))
            print(f"  {result.ingested:,} ingested, {n_events / seconds:,.0f} events per second")
            events = None  # free the DataFrame before the Parquet ingest
            gc.collect()
            result, seconds = timed("ingest Parquet again", lambda: store.ingest(parquet))
            print(f"  {result.duplicates:,} duplicates, {n_events / seconds:,.0f} events "
                  "per second")
            total = 0.0
            for name in METRIC_SQL:
                if name == "exposed_events":
                    continue  # one row per event: a listing, not a metric
                frame, seconds = timed(f"metrics({name!r})",
                                       lambda name=name: store.metrics(name))
                total += seconds
                if name == "users":
                    print(f"  {len(frame):,} users, {len(frame.columns)} metrics each")
            print(f"all metric queries: {total:.2f} s wall")
    print(f"peak memory (ru_maxrss): {peak_memory_gb():.2f} GB")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(*([int(arguments[0])] if arguments else []), *arguments[1:2])
