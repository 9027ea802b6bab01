r"""Replaying sequential procedures on recorded streams of an experiment's looks.

A platform that keeps the cumulative results of every experiment at every checkpoint (such as
the ASOS data set, :func:`abteach.asos`) can ask, after the fact, what each monitoring rule would
have decided: the fixed-horizon test at the end, naive peeking at every look, a
group-sequential design whose information fractions come from a *planned* maximum, and the
always-valid mixture SPRT. :func:`replay_streams` applies all four to every stream at once.

References
----------
Lan, K. K. G. & DeMets, D. L. (1983), Discrete sequential boundaries for clinical trials,
*Biometrika* 70, 659-663.
Wassmer, G. & Brannath, W. (2016), *Group Sequential and Confirmatory Adaptive Designs in
Clinical Trials*, Springer, sec. 3.3 (over-running and under-running).
Johari, R., Koomen, P., Pekelis, L. & Walsh, D. (2022), Always valid inference: continuous
monitoring of A/B tests, *Operations Research* 70, 1806-1821.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from abteach._validate import check_alpha, check_choice
from abteach.sequential._checks import MAX_LOOKS, MAX_OVERRUN, MIN_INFORMATION_STEP
from abteach.sequential.always_valid import msprt
from abteach.sequential.boundaries import boundaries
from abteach.sequential.monitoring import sequential_analysis
from abteach.sequential.spending import SPENDING_METHODS

__all__ = ["replay_streams"]

_COLUMNS = ("stream", "time", "n", "estimate", "variance")


def replay_streams(looks, *, planned_max, tau2, alpha: float = 0.05,
                   method: str = "ld-obf") -> pd.DataFrame:
    r"""What four monitoring rules would have decided on recorded streams of looks.

    For each stream (one experiment, variant and metric), with :math:`Z_k = \hat\theta_k /
    \sqrt{V_k}` at look k (two-sided, level ``alpha``):

    Rows are sorted by ``time`` within each stream (the order of the looks).

    * **fixed horizon**: reject H0 when :math:`|Z_K| \ge z_{1-\alpha/2}` at the last look;
    * **naive peeking**: reject at the first look with :math:`|Z_k| \ge z_{1-\alpha/2}`;
    * **group-sequential** (:func:`sequential_analysis`, a spending design ``method``):
      information fractions :math:`t_k = n_k / n_{max}` from the stream's *planned* maximum;
      the first look with :math:`t_k \ge 1` is the final analysis (an over-run; later looks
      are not used), and otherwise the stream's last look is (an under-run, ``final=True``);
      either way the final analysis spends all the alpha left;
    * **mixture SPRT** (:func:`msprt`, ``tau2`` per stream): reject at the first look whose
      always-valid p-value is at most alpha.

    Looks whose count ``n`` does not exceed every earlier one (a cumulative count that goes
    backwards or stalls, or an information step below 1e-6 of the plan) cannot be looks of a
    sequential design: they are skipped by the group-sequential rule and counted in
    ``skipped``.

    Parameters
    ----------
    looks : pandas.DataFrame
        One row per look with columns ``stream`` (any label), ``time`` (when the look was
        taken), ``n`` (units so far), ``estimate`` (effect estimate, treatment minus control)
        and ``variance`` (its variance, > 0); rows of a stream are sorted by ``time``.
    planned_max : mapping or pandas.Series
        Planned maximum of ``n`` for every stream (> 0), fixed without looking at the
        stream's outcome.
    tau2 : float, mapping or pandas.Series
        Variance of the mSPRT's normal mixing distribution (one value, or one per stream).
    alpha : float
        Two-sided type I error of every rule.
    method : {"ld-obf", "ld-pocock"}
        Spending function of the group-sequential rule.

    Returns
    -------
    pandas.DataFrame
        One row per stream (index ``stream``): ``looks``, ``skipped``, ``final_fraction``
        (:math:`t` of the group-sequential final analysis), ``fixed_z``, and for each rule
        ``fixed``, ``naive``, ``gs``, ``msprt`` the decision (+1 treatment better, -1 worse,
        0 H0 not rejected) and, for the three monitoring rules, ``*_look`` (the look of the
        stop, 1-based among the stream's rows; 0 without a stop).

    Examples
    --------
    >>> looks = pd.DataFrame({"stream": "a", "time": [1.0, 2.0, 3.0], "n": [100, 200, 300],
    ...                       "estimate": [0.5, 0.4, 0.3], "variance": [0.02, 0.01, 0.005]})
    >>> table = replay_streams(looks, planned_max={"a": 300}, tau2=0.1)
    >>> table.loc["a", ["fixed", "gs", "naive"]].astype(int).tolist()
    [1, 1, 1]
    """
    frame = _check_looks_frame(looks)
    alpha = check_alpha(alpha)
    method = check_choice("method", method, SPENDING_METHODS[:2])
    streams = frame["stream"].unique()
    maxima = _per_stream("planned_max", planned_max, streams)
    taus = _per_stream("tau2", tau2, streams)
    z_crit = float(-ndtri(alpha / 2))
    rows = []
    for label, rows_of in frame.groupby("stream", sort=False):
        estimate = rows_of["estimate"].to_numpy(float)
        variance = rows_of["variance"].to_numpy(float)
        z = estimate / np.sqrt(variance)
        keep, fractions, final_look = _design_looks(rows_of["n"].to_numpy(float), maxima[label])
        gs = sequential_analysis(z[keep][:final_look], fractions,
                                 boundaries(1, method=method, alpha=alpha), final=True)
        always = msprt(estimate, variance, tau2=taus[label], alpha=alpha)
        naive = np.abs(z) >= z_crit
        rows.append({
            "stream": label, "looks": z.size, "skipped": int(z.size - keep.sum()),
            "final_fraction": float(fractions[-1]), "fixed_z": float(z[-1]),
            "fixed": int(np.sign(z[-1])) if naive[-1] else 0,
            **_stop("naive", naive, z, np.arange(1, z.size + 1)),
            **_stop("gs", gs.crossed, z[keep], np.flatnonzero(keep) + 1),
            **_stop("msprt", np.asarray(always.reject), z, np.arange(1, z.size + 1)),
        })
    return pd.DataFrame(rows).set_index("stream")


def _stop(name: str, crossed: np.ndarray, z: np.ndarray, look: np.ndarray) -> dict:
    """Decision (+1, -1, 0) and look (1-based, 0 without a stop) of a rule's first crossing."""
    if not crossed.any():
        return {name: 0, f"{name}_look": 0}
    first = int(np.argmax(crossed))
    return {name: int(np.sign(z[first])), f"{name}_look": int(look[first])}


def _design_looks(n: np.ndarray, planned: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Looks usable by a design (n above every earlier look by at least 1e-6 of the plan),
    the information fractions up to the final analysis, and its 1-based index among them."""
    running = np.maximum.accumulate(np.concatenate(([0.0], n[:-1])))
    keep = n - running >= MIN_INFORMATION_STEP * planned
    counts = n[keep]
    if counts.size == 0:
        raise ValueError(
            f"planned_max {planned!r} leaves a stream without a usable look: no count n adds "
            f"{MIN_INFORMATION_STEP:g} of it (counts {n.tolist()[:5]})"
        )
    over = counts >= planned
    final_look = int(np.argmax(over)) + 1 if over.any() else int(counts.size)
    if counts[final_look - 1] > MAX_OVERRUN * planned:
        raise ValueError(
            f"planned_max must be at least 1/{MAX_OVERRUN:g} of a stream's count at its final "
            f"look, got planned_max {planned!r} for a final count of {counts[final_look - 1]!r}"
        )
    if final_look > MAX_LOOKS:
        raise ValueError(f"looks: a stream may hold at most {MAX_LOOKS} looks, got {final_look}")
    return keep, counts[:final_look] / planned, final_look


def _check_looks_frame(looks) -> pd.DataFrame:
    if not isinstance(looks, pd.DataFrame):
        raise TypeError(f"looks must be a pandas DataFrame, got {type(looks).__name__}")
    missing = [c for c in _COLUMNS if c not in looks.columns]
    if missing:
        raise ValueError(f"looks must have the columns {list(_COLUMNS)}, missing {missing}")
    if looks.empty:
        raise ValueError("looks must hold at least one row, got an empty DataFrame")
    frame = looks[list(_COLUMNS)]
    for column in _COLUMNS[1:]:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(values)
        if column == "variance":
            bad |= ~(values > 0)
        elif column == "n":
            bad |= values < 0
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"looks[{column!r}] must be finite numbers"
                + (" > 0" if column == "variance" else " >= 0" if column == "n" else "")
                + f", got {frame[column].iloc[i]!r} (at row {i})"
            )
    if (frame.groupby("stream", sort=False)["time"].diff() <= 0).any():
        raise ValueError("looks['time'] must increase strictly within each stream (sort the rows)")
    return frame


def _per_stream(name: str, values, streams) -> dict:
    """A positive value per stream from a scalar, a mapping or a Series."""
    if isinstance(values, (int, float, np.integer, np.floating)) and not isinstance(values, bool):
        values = {label: values for label in streams}
    if not isinstance(values, (dict, pd.Series)):
        raise TypeError(f"{name} must be a number, a mapping or a pandas Series, got "
                        f"{type(values).__name__}")
    result = {}
    for label in streams:
        if label not in values:
            raise ValueError(f"{name} has no value for the stream {label!r}")
        value = values[label]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must hold numbers, got {value!r} for the stream {label!r}")
        try:
            value = float(value)
        except OverflowError:
            value = float("inf")
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be finite and > 0, got {value!r} for the stream "
                             f"{label!r}")
        result[label] = float(value)
    return result
