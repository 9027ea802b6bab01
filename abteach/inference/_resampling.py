"""Private numerics of :func:`abteach.inference.bootstrap_ci`: blocked resampling, the
jackknife, quantiles and the BCa adjustment (Efron & Tibshirani, 1993, chapters 13 and 14)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

from abteach.inference._core import _first_index, _where

# Elements per block of bootstrap resamples or jackknife rows (32 MB of float64).
_BLOCK = 2**22


def _difference_in_means(control: np.ndarray, treatment: np.ndarray) -> np.ndarray:
    return treatment.mean(axis=-1) - control.mean(axis=-1)


def _apply(statistic: Callable, control, treatment, shape: tuple[int, ...]) -> np.ndarray:
    """Evaluate the user's statistic; refuse results of the wrong shape or not finite."""
    with np.errstate(over="ignore", invalid="ignore"):  # refused below if not finite
        value = statistic(control, treatment)
    try:
        value = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"statistic must return numbers, got {value!r}") from None
    if value.shape != shape:
        # A statistic that ignores one sample returns size-1 axes, which broadcast; a scalar
        # from a statistic that forgot axis=-1 does not pass.
        try:
            if value.ndim != len(shape):
                raise ValueError
            value = np.broadcast_to(value, shape)
        except ValueError:
            raise ValueError(
                "statistic must reduce the last axis of both samples (like np.mean(x, axis=-1)) "
                f"and broadcast the others: expected shape {shape}, got {value.shape}"
            ) from None
    bad = ~np.isfinite(value)
    if bad.any():
        raise ValueError(
            f"statistic returned a non-finite value, {value[_first_index(bad)].item()!r}, "
            "on the data or on a resample of them (values too large for floating point, or "
            "a statistic undefined on some resample)"
        )
    return value


def _resample(sample: np.ndarray, lead: tuple[int, ...], size: int, generator) -> np.ndarray:
    """``size`` resamples with replacement of the last axis, independently per experiment."""
    n = sample.shape[-1]
    kind = np.int32 if n < 2**31 else np.int64  # int32 draws are four times faster
    index = generator.integers(0, n, size=lead + (size, n), dtype=kind)
    return np.take_along_axis(np.broadcast_to(sample, lead + (n,))[..., None, :], index, axis=-1)


def _replicates(statistic, control, treatment, lead, n_resamples: int, generator) -> np.ndarray:
    """Bootstrap replicates, shape lead + (n_resamples,), drawn in blocks of ~_BLOCK values."""
    per_resample = int(np.prod(lead)) * (control.shape[-1] + treatment.shape[-1])
    block = max(1, _BLOCK // per_resample)
    out = np.empty(lead + (n_resamples,))
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        c = _resample(control, lead, size, generator)
        t = _resample(treatment, lead, size, generator)
        out[..., start:start + size] = _apply(statistic, c, t, lead + (size,))
    return out


def _jackknife(statistic, control, treatment, lead) -> list[np.ndarray]:
    """Leave-one-out values of the statistic: one array per sample, shape lead + (n_j,).

    The default difference in means has the closed form mean_(i) = (sum - x_i) / (n - 1);
    any other statistic is evaluated on blocks of leave-one-out rows (cost O(n^2)).
    """
    if statistic is _difference_in_means:
        loo_c = (control.sum(axis=-1, keepdims=True) - control) / (control.shape[-1] - 1)
        loo_t = (treatment.sum(axis=-1, keepdims=True) - treatment) / (treatment.shape[-1] - 1)
        mean_c = control.mean(axis=-1, keepdims=True)
        mean_t = treatment.mean(axis=-1, keepdims=True)
        return [np.broadcast_to(mean_t - loo_c, lead + (control.shape[-1],)),
                np.broadcast_to(loo_t - mean_c, lead + (treatment.shape[-1],))]
    values = []
    for which, sample in enumerate((control, treatment)):
        other = (treatment, control)[which][..., None, :]
        n = sample.shape[-1]
        block = max(1, _BLOCK // (int(np.prod(lead)) * n))
        parts = []
        for start in range(0, n, block):
            rows = np.arange(start, min(n, start + block))
            keep = np.arange(n - 1)[None, :]
            keep = keep + (keep >= rows[:, None])  # every index but the left-out row
            left_out = sample[..., keep]
            pair = (left_out, other) if which == 0 else (other, left_out)
            parts.append(_apply(statistic, *pair, lead + (len(rows),)))
        values.append(np.concatenate(parts, axis=-1))
    return values


def _quantiles(sorted_replicates: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Per-element quantiles of sorted replicates, linear interpolation (numpy's default,
    Hyndman & Fan type 7)."""
    last = sorted_replicates.shape[-1] - 1
    position = np.clip(probability, 0, 1) * last
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, last)
    low_value = np.take_along_axis(sorted_replicates, lower[..., None], axis=-1)[..., 0]
    high_value = np.take_along_axis(sorted_replicates, upper[..., None], axis=-1)[..., 0]
    return _interpolate(low_value, high_value, position - lower)


def _interpolate(low, high, weight):
    """low + weight (high - low), or (1 - weight) low + weight high where high - low would
    overflow (replicates near the largest float on both sides)."""
    with np.errstate(over="ignore", invalid="ignore"):
        value = low + weight * (high - low)
    return np.where(np.isfinite(value), value, (1 - weight) * low + weight * high)


def _standard_deviation(replicates: np.ndarray) -> np.ndarray:
    """sd (n - 1 divisor) along the last axis, computed on values divided by their largest
    |value| so that the squares cannot overflow."""
    scale = np.abs(replicates).max(axis=-1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    with np.errstate(over="ignore"):
        sd = (replicates / scale).std(axis=-1, ddof=1) * scale[..., 0]
    if not np.isfinite(sd).all():
        raise ValueError(
            "the bootstrap standard error is too large for floating point; rescale the data"
        )
    return sd


def _acceleration(jackknife: list[np.ndarray]) -> np.ndarray:
    """The BCa acceleration a = sum_j sum_i U_ji^3 / n_j^3 / (6 (sum_j sum_i U_ji^2 /
    n_j^2)^(3/2)), U_ji = (n_j - 1)(mean_i theta_(ji) - theta_(ji)).

    ``a`` does not change when every U is multiplied by one constant, so the jackknife
    values are first divided by their largest |value| and the U by their largest |U| (per
    experiment): U^3 can neither overflow (an outlier of 1e105) nor underflow.
    """
    def per_experiment_max(arrays):
        largest = np.max([np.abs(a).max(axis=-1) for a in arrays], axis=0)
        return np.where(largest > 0, largest, 1.0)[..., None]

    scale = per_experiment_max(jackknife)
    u = [(v.shape[-1] - 1) * (np.mean(v / scale, axis=-1, keepdims=True) - v / scale)
         for v in jackknife]
    spread = per_experiment_max(u)
    num = sum(np.sum((uj / spread) ** 3, axis=-1) / uj.shape[-1] ** 3 for uj in u)
    den = sum(np.sum((uj / spread) ** 2, axis=-1) / uj.shape[-1] ** 2 for uj in u)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0) ** 1.5 / 6, 0.0)


def _bca_levels(replicates, estimate, jackknife, tail_alpha: float):
    """Adjusted quantile levels of the BCa interval and its (z0, a) (Efron & Tibshirani ch. 14).

    z0 = Phi^-1(share of replicates below the estimate, ties counted half); a from the
    jackknife over each sample in turn (:func:`_acceleration`).
    """
    count = replicates.shape[-1]
    below = np.count_nonzero(replicates < estimate[..., None], axis=-1)
    at_or_below = np.count_nonzero(replicates <= estimate[..., None], axis=-1)
    z0 = special.ndtri((below + at_or_below) / (2 * count))
    bad = ~np.isfinite(z0)
    if bad.any():
        raise ValueError(
            "method='bca' needs replicates on both sides of the estimate, but every "
            f"replicate lies on one side{_where(_first_index(bad))}; use "
            "method='percentile' or more n_resamples"
        )
    acceleration = _acceleration(jackknife)
    z_alpha = special.ndtri(tail_alpha)
    levels = []
    with np.errstate(divide="ignore"):
        for z in (z_alpha, -z_alpha):
            shifted = z0 + z
            levels.append(special.ndtr(z0 + shifted / (1 - acceleration * shifted)))
    undefined = ~(np.isfinite(levels[0]) & np.isfinite(levels[1]))
    if undefined.any():
        raise ValueError(
            f"the BCa adjustment is undefined{_where(_first_index(undefined))}: the "
            "acceleration is not finite; use method='percentile'"
        )
    return levels[0], levels[1], z0, acceleration


def _bootstrap_interval(replicates, estimate, jackknife, method: str, alternative: str,
                        alpha: float):
    """(low, high, z0, a) from replicates; the jackknife is used by BCa only."""
    tail_alpha = alpha / 2 if alternative == "two-sided" else alpha
    if method == "bca":
        level_low, level_high, z0, acceleration = _bca_levels(
            replicates, estimate, jackknife, tail_alpha
        )
    else:
        level_low = np.full(estimate.shape, tail_alpha)
        level_high = np.full(estimate.shape, 1 - tail_alpha)
        z0 = acceleration = None
    ordered = np.sort(replicates, axis=-1)
    low, high = _quantiles(ordered, level_low), _quantiles(ordered, level_high)
    if alternative == "smaller":
        low = np.full_like(low, -np.inf)
    elif alternative == "larger":
        high = np.full_like(high, np.inf)
    return low, high, z0, acceleration


# --- cluster (unit-level) resampling ---------------------------------------------------------


def _cluster_codes(name: str, labels, size: int) -> np.ndarray:
    """Integer codes 0..K-1 (K >= 2) of the cluster labels of ``size`` observations."""
    try:
        array = np.asarray(labels)
    except (ValueError, TypeError):
        raise TypeError(f"{name} must be a 1-d array of labels, got {labels!r}") from None
    if array.ndim != 1 or array.shape[0] != size or array.dtype == object:
        raise ValueError(f"{name} must be a 1-d array with one label per observation "
                         f"({size}), got {labels!r}")
    codes = np.unique(array, return_inverse=True)[1].ravel()
    if codes.max() < 1:
        raise ValueError(f"{name} must name at least 2 clusters, got only {array[0]!r}")
    return codes


def _cluster_layout(name: str, labels, size: int):
    """(order, starts, counts): the observations sorted by cluster, where each cluster starts
    and how many observations it has. Without labels each observation is its own cluster."""
    if labels is None:
        return np.arange(size), np.arange(size), np.ones(size, dtype=np.int64)
    codes = _cluster_codes(name, labels, size)
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.argsort(codes, kind="stable"), starts, counts


def _cluster_draw(layout, generator) -> np.ndarray:
    """Observation indices of one resample: as many clusters as there are, with replacement,
    each bringing all its observations."""
    order, starts, counts = layout
    pick = generator.integers(0, counts.size, counts.size)
    sizes = counts[pick]
    offsets = np.repeat(starts[pick] - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
    return order[offsets]


def _cluster_replicates(statistic, control, treatment, layouts, n_resamples, generator):
    """Bootstrap replicates resampling whole clusters of each arm (one resample at a time:
    the resamples have different numbers of observations)."""
    out = np.empty(n_resamples)
    for b in range(n_resamples):
        c = control[_cluster_draw(layouts[0], generator)]
        t = treatment[_cluster_draw(layouts[1], generator)]
        out[b] = _apply(statistic, c, t, ())
    return out


def _cluster_jackknife(statistic, control, treatment, layouts) -> list[np.ndarray]:
    """Leave-one-cluster-out values of the statistic, one array per arm."""
    values = []
    for which, (sample, (order, starts, counts)) in enumerate(zip((control, treatment), layouts)):
        other = (treatment, control)[which]
        row = []
        for start, count in zip(starts, counts):
            kept = np.delete(sample, order[start:start + count])
            pair = (kept, other) if which == 0 else (other, kept)
            row.append(_apply(statistic, *pair, ()))
        values.append(np.array(row))
    return values
