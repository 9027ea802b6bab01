r"""Side by side: naive peeking, fixed, group-sequential and always-valid rules on the same
simulated streams."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from abteach._validate import as_generator, check_int, check_positive, check_scalar, check_work
from abteach.sequential._checks import _check_design_alpha, _check_drift, _check_looks
from abteach.sequential.always_valid import _msprt_halfwidth
from abteach.sequential.boundaries import boundaries
from abteach.sequential.peeking import _stream_chunks

__all__ = ["compare_designs"]


def compare_designs(
    n_experiments: int,
    looks,
    *,
    drift: float,
    alpha: float = 0.05,
    tau2: float | None = None,
    rng,
) -> pd.DataFrame:
    r"""Naive peeking, fixed, Pocock, O'Brien-Fleming, Lan-DeMets OBF and mSPRT on the same streams.

    Draws ``n_experiments`` z-statistic paths under H0 (:func:`simulate_z_streams`) and reuses
    the same draws under the alternative by adding :math:`\theta \sqrt{t_k}` (common random
    numbers), then applies every two-sided rule to each path:

    * ``fixed``: one test at the last look, :math:`|Z_K| \ge z_{1-\alpha/2}`;
    * ``naive peeking``: :math:`|Z_k| \ge z_{1-\alpha/2}` at any look;
    * ``pocock``, ``obf``, ``ld-obf``: :func:`boundaries` with these looks;
    * ``msprt``: :func:`msprt` on the estimates :math:`Z_k / \sqrt{t_k}` (variance
      :math:`1/t_k`, in units where the drift is the effect) with mixing variance ``tau2``
      (default drift^2), i.e. :math:`|Z_k| \ge \sqrt{t_k}\,w_k` for the half-width
      :math:`w_k` of its confidence sequence.

    All rules have the same maximum sample size (the fixed design's), so the table shows the
    price of early looks: a little power, against a lower expected sample size.

    Parameters
    ----------
    n_experiments : int
        Paths per scenario (simulated in blocks of about 10 million comparisons);
        ``12 * n_experiments * looks`` may be at most 2**28.
    looks : int or sequence of float
    drift : float > 0
        Expected z-statistic at the last look under the alternative (e.g. 2.80 gives the fixed
        design 80% power at alpha = 0.05).
    alpha : float
    tau2 : float > 0, optional
        mSPRT mixing variance in drift units; default ``drift**2``.
    rng : numpy.random.Generator or int

    Returns
    -------
    pandas.DataFrame
        One row per rule: ``design``, ``type_i_error`` (share of H0 paths rejected),
        ``power`` (share of alternative paths rejected with Z > 0), ``expected_n_h0``,
        ``expected_n_h1`` (mean information fraction at the stop, as a share of the fixed
        design's sample size).

    Examples
    --------
    >>> list(compare_designs(1000, 5, drift=2.8, rng=1).design)
    ['fixed', 'naive peeking', 'pocock', 'obf', 'ld-obf', 'msprt']
    """
    size = check_int("n_experiments", n_experiments, minimum=1)
    t = _check_looks(looks)
    check_work("12 * n_experiments * looks (6 rules, 2 scenarios)", 12 * size * t.size)
    theta = check_scalar("drift", check_positive("drift", _check_drift(drift)))
    alpha = _check_design_alpha(alpha)
    tau2 = _mixing_variance(tau2, theta)
    generator = as_generator(rng)
    k = t.size
    z_fixed = float(-ndtri(alpha / 2.0))
    rules = {
        "fixed": np.where(np.arange(k) == k - 1, z_fixed, np.inf),
        "naive peeking": np.full(k, z_fixed),
        "pocock": boundaries(t, alpha=alpha, method="pocock").critical_values,
        "obf": boundaries(t, alpha=alpha, method="obf").critical_values,
        "ld-obf": boundaries(t, alpha=alpha, method="ld-obf").critical_values,
        "msprt": np.sqrt(t) * _msprt_halfwidth(1.0 / t, tau2, alpha),
    }
    thresholds = np.array(list(rules.values()))  # (rules, looks)
    n_rules = thresholds.shape[0]
    rejected = np.zeros((2, n_rules))
    right_way = np.zeros(n_rules)
    fraction_sum = np.zeros((2, n_rules))
    shift = theta * np.sqrt(t)
    for z0 in _stream_chunks(size, t, 0.0, generator, 10_000_000 // n_rules):
        for scenario, z in enumerate((z0, z0 + shift)):
            crossed = np.abs(z)[:, None, :] >= thresholds[None, :, :]  # (paths, rules, looks)
            any_cross = crossed.any(axis=2)
            first = np.argmax(crossed, axis=2)
            rejected[scenario] += any_cross.sum(axis=0)
            fraction_sum[scenario] += np.where(any_cross, t[first], t[-1]).sum(axis=0)
            if scenario == 1:
                z_stop = np.take_along_axis(z, first, axis=1)  # (paths, rules)
                right_way += (any_cross & (z_stop > 0)).sum(axis=0)
    return pd.DataFrame({
        "design": list(rules),
        "type_i_error": rejected[0] / size,
        "power": right_way / size,
        "expected_n_h0": fraction_sum[0] / size,
        "expected_n_h1": fraction_sum[1] / size,
    })


def _mixing_variance(tau2, drift: float) -> float:
    """The mSPRT mixing variance: ``tau2``, by default drift**2 (refused if that underflows)."""
    if tau2 is not None:
        return check_scalar("tau2", check_positive("tau2", tau2))
    if drift**2 < np.finfo(float).tiny:
        raise ValueError(
            f"drift = {drift!r} is too small for the default tau2 = drift**2, which underflows; "
            "pass tau2"
        )
    return drift**2
