"""Stratified (blocked) randomization: split each stratum as evenly as the weights allow.

Section 3.6 of chapter 3.

References
----------
Imbens, G. W. & Rubin, D. B. (2015), *Causal Inference for Statistics, Social, and
Biomedical Sciences*, ch. 9 (stratified randomized experiments).
"""

from __future__ import annotations

import numpy as np

from abteach._validate import as_generator, check_work
from abteach.assignment._checks import _check_weights



def stratified_assignment(strata, *, weights, rng) -> np.ndarray:
    """Blocked randomization: split each stratum as evenly as the weights allow.

    Within a stratum of m units, every variant i gets either floor(m w_i) or ceil(m w_i)
    units, so the arms stay balanced on whatever defines the strata (country, platform,
    pre-period activity), which complete randomization only achieves on average. Which
    units get which variant is random, and so is which variants get the rounding
    remainder: the units of a stratum are put in random order and cut at
    ``floor(m (w_0 + ... + w_i) + u)`` for i = 0, ..., k - 2, with one u ~ Uniform(0, 1)
    per stratum. Then each variant's count has expectation exactly m w_i, and every unit
    is in variant i with probability w_i.

    Use it when the unit list is known before the experiment starts (e-mail campaigns,
    markets, stores); live traffic is assigned one unit at a time by hashing
    (:func:`assign`), where post-stratification or CUPED provide the variance reduction.

    Parameters
    ----------
    strata : array-like, shape (n,)
        Stratum label of each unit (numbers or strings).
    weights : sequence of float
        Variant weights (at least 2, non-negative, summing to 1 within 1e-9).
    rng : numpy.random.Generator or int
        Source of randomness.

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        Variant index of each unit.

    References
    ----------
    Imbens, G. W. & Rubin, D. B. (2015), *Causal Inference for Statistics, Social, and
    Biomedical Sciences*, ch. 9 (stratified randomized experiments).
    """
    weights = _check_weights(weights)
    generator = as_generator(rng)
    try:
        labels = np.asarray(strata)
    except ValueError:  # ragged nested sequences
        raise TypeError(f"strata must be a 1-D array of labels, got {strata!r}") from None
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"strata must be a non-empty 1-D array of labels, got {strata!r}")
    try:
        _, codes, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    except TypeError:
        raise TypeError(f"strata must hold labels of one comparable type, got {strata!r}") from None
    check_work("len(strata) * len(weights)", labels.size * len(weights))
    order = np.lexsort((generator.random(labels.size), codes))
    first = np.cumsum(sizes) - sizes
    rank = np.empty(labels.size, dtype=np.int64)
    rank[order] = np.arange(labels.size) - first[codes[order]]
    offsets = generator.random(sizes.size)
    cuts = np.floor(sizes[:, None] * np.cumsum(weights)[None, :-1] + offsets[:, None])
    return (rank[:, None] >= cuts[codes]).sum(axis=1).astype(np.int64)
