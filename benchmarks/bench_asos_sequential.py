"""The ASOS-wide sequential replay of chapter 14 (section 14.9), timed.

One look a day at each of the 99 metric-1 streams of the ASOS data set, and the four rules of
``abteach.replay_streams`` on all of them: the fixed horizon, naive peeking, the Lan-DeMets
O'Brien-Fleming design with its planned maximum declared at the first look (the final analysis
spends the alpha left after an over-run or an under-run) and the mixture SPRT. Issue 14 asks for
the whole replay under 5 s on the course machine (2 cores). The replay is the one of the answer
key of chapter 14 (``abteach.course.answers.ch14.asos_replay``), so the benchmark times exactly
what the chapter computes. Run: ``python benchmarks/bench_asos_sequential.py``.
"""

from __future__ import annotations

import resource
import statistics
import time

REPEATS = 3


def main() -> None:
    start = time.perf_counter()
    from abteach.course.answers import ch14

    looks = ch14.asos_daily_looks()  # loads the data set (checksum verified) and builds looks
    prepared = time.perf_counter() - start
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        replay = ch14.asos_replay()
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{replay.shape[0]} streams, {len(looks):,} daily looks "
          f"({int(replay['looks'].max())} in the longest stream)")
    print(f"load the data and build the looks: {prepared:.2f} s (imports included)")
    print(f"replay of the four rules on every stream: median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f} s, {REPEATS} runs)")
    print(f"whole replay, load included: {prepared + statistics.median(times):.2f} s; "
          f"peak memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
