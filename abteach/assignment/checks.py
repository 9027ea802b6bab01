"""Checking an assignment: do hashed ids fill the buckets evenly, are two experiments independent?

Sections 3.4 and 3.5 of chapter 3: Pearson's chi-square goodness-of-fit test of the buckets
(:func:`bucket_uniformity`) and the chi-square test of independence of two experiments'
assignments (:func:`independence_test`).

References
----------
Agresti, A. (2013), *Categorical Data Analysis*, 3rd ed., sections 1.5 and 3.2.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import stats

from abteach._records import Record, format_number
from abteach._validate import check_int, check_work
from abteach.assignment._checks import (
    HASH_LEVELS,
    _check_text,
    _check_variants,
    _check_version,
    _pack,
)
from abteach.assignment.hashing import MAX_UNIT_IDS, _levels_many, make_unit_ids



@dataclass(frozen=True, repr=False, eq=False)
class UniformityTest(Record):
    """Result of :func:`bucket_uniformity`: Pearson's chi-square goodness of fit.

    Fields are scalars for one set of ids; for ids of shape (..., n) they are arrays over
    the leading axes (one test per row) and ``counts`` has shape (..., n_buckets).
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df: int
    counts: np.ndarray
    expected: np.ndarray
    n_units: int
    n_buckets: int
    experiment_key: str
    hash_version: int

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in."""
        head = (
            f"Uniformity of {self.n_buckets} hash buckets (key {self.experiment_key!r}, hash "
            f"v{self.hash_version}), {self.n_units} units per test; "
            "H0: every bucket has its share of the hash levels"
        )
        formula = "  X^2 = sum over buckets of (observed - expected)^2 / expected"
        if np.ndim(self.statistic) != 0:
            pvalues = np.asarray(self.pvalue)
            share = float(np.mean(pvalues < 0.05))
            return "\n".join([
                f"{pvalues.size} tests. " + head,
                formula + f", df = {self.df}",
                f"  p-value < 0.05 in {format_number(100 * share, 4)}% of the tests "
                "(about 5% if the hash is uniform)",
            ])
        counts = np.asarray(self.counts)
        expected = np.asarray(self.expected)
        low, high = format_number(expected.min(), 6), format_number(expected.max(), 6)
        return "\n".join([
            head,
            f"  expected per bucket: {low}" + ("" if low == high else f" to {high}"),
            f"  observed: min {counts.min()}, max {counts.max()}",
            formula + f" = {format_number(self.statistic, 6)}",
            f"  df = n_buckets - 1 = {self.df}",
            f"  p-value = P(chi2_{self.df} >= {format_number(self.statistic, 6)}) = "
            f"{format_number(self.pvalue, 4)}",
        ])


def bucket_uniformity(
    unit_ids, experiment_key: str, *, n_buckets: int = 100, hash_version: int = 2
) -> UniformityTest:
    """Chi-square test that hashed ids spread evenly over equal-width buckets.

    Each id's hash level k (0 <= k < L, with L = 1000 for v1 and 10000 for v2) falls in
    bucket ``floor(k * n_buckets / L)``, computed in integers. When n_buckets divides L every
    bucket holds the same number of levels; otherwise the expected share of bucket b is its
    exact number of levels divided by L. Pearson's statistic
    :math:`X^2 = \\sum_b (O_b - E_b)^2 / E_b` is compared with :math:`\\chi^2_{B-1}`.

    For a good hash the p-value is uniform over repeated sets of ids, so the test rejects
    at level alpha in a fraction alpha of them (this is checked by simulation in the tests).

    Parameters
    ----------
    unit_ids : int or array-like of str
        An int n stands for ``make_unit_ids(n)`` ("user-0", "user-1", ...). An array of
        shape (..., n) runs one test per row of n ids.
    experiment_key : str
        The salt.
    n_buckets : int
        Number of buckets B, from 2 to L; each must expect at least 5 ids (the usual
        condition for the chi-square approximation).
    hash_version : {1, 2}

    Returns
    -------
    UniformityTest

    References
    ----------
    Agresti, A. (2013), *Categorical Data Analysis*, 3rd ed., section 1.5 (Pearson's
    goodness-of-fit test).
    """
    if isinstance(unit_ids, numbers.Integral) and not isinstance(unit_ids, (bool, np.bool_)):
        count = check_int("unit_ids", unit_ids, minimum=1, maximum=MAX_UNIT_IDS)
        unit_ids = make_unit_ids(count)
    packed = _pack("unit_ids", unit_ids, scalar_ok=False, utf16=True)
    shape = packed.shape
    _check_text("experiment_key", experiment_key)
    version = _check_version(hash_version)
    levels_count = HASH_LEVELS[version]
    n_buckets = check_int("n_buckets", n_buckets, minimum=2)
    if n_buckets > levels_count:
        raise ValueError(
            f"n_buckets must be at most {levels_count} for hash_version {version}, got {n_buckets}"
        )
    n_units = shape[-1]
    share = np.bincount(np.arange(levels_count) * n_buckets // levels_count, minlength=n_buckets)
    expected = n_units * share / levels_count
    if expected.min() < 5:
        raise ValueError(
            "expected count per bucket must be >= 5 for the chi-square approximation, got "
            f"{format_number(expected.min())} (n_units = {n_units}, n_buckets = {n_buckets})"
        )
    buckets = _levels_many(experiment_key, packed, version) * n_buckets // levels_count
    n_tests = buckets.size // n_units
    rows = np.repeat(np.arange(n_tests), n_units)
    counts = np.bincount(rows * n_buckets + buckets, minlength=n_tests * n_buckets)
    counts = counts.reshape(*shape[:-1], n_buckets)
    statistic = ((counts - expected) ** 2 / expected).sum(axis=-1)
    pvalue = stats.chi2.sf(statistic, n_buckets - 1)
    scalar = len(shape) == 1
    return UniformityTest(
        statistic=float(statistic) if scalar else statistic,
        pvalue=float(pvalue) if scalar else pvalue,
        df=n_buckets - 1,
        counts=counts,
        expected=expected,
        n_units=n_units,
        n_buckets=n_buckets,
        experiment_key=experiment_key,
        hash_version=version,
    )


@dataclass(frozen=True, repr=False, eq=False)
class IndependenceTest(Record):
    """Result of :func:`independence_test`: Pearson's chi-square test of a contingency table.

    ``table[..., i, j]`` counts the units in variant i of experiment A and variant j of B.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df: int | np.ndarray
    table: np.ndarray
    n_units: int | np.ndarray

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in."""
        head = "Independence of two assignments, H0: variant in A says nothing about variant in B"
        formula = "  X^2 = sum over cells of (n_ij - n_i. n_.j / n)^2 / (n_i. n_.j / n)"
        if np.ndim(self.statistic) != 0:
            pvalues = np.asarray(self.pvalue)
            share = float(np.mean(pvalues < 0.05))
            return "\n".join([
                f"{pvalues.size} tables. " + head,
                formula,
                f"  p-value < 0.05 in {format_number(100 * share, 4)}% of the tables",
            ])
        rows = ["  table (rows: variant in A, columns: variant in B):"]
        rows += ["    " + "  ".join(f"{count:>8d}" for count in line) for line in self.table]
        return "\n".join([
            head,
            f"  units enrolled in both experiments: n = {self.n_units}",
            *rows,
            formula + f" = {format_number(self.statistic, 6)}",
            f"  df = (rows - 1) * (columns - 1) = {self.df}",
            f"  p-value = {format_number(self.pvalue, 4)}",
        ])


def independence_test(variants_a, variants_b) -> IndependenceTest:
    """Chi-square test that two experiments' assignments are independent.

    Cross-tabulates the units enrolled in both experiments (variant >= 0 in both) and
    computes Pearson's :math:`X^2 = \\sum_{ij} (n_{ij} - E_{ij})^2 / E_{ij}` with
    :math:`E_{ij} = n_{i\\cdot} n_{\\cdot j} / n`, on :math:`(r - 1)(c - 1)` degrees of
    freedom, where r and c count the variants that received units. Experiments salted
    with different keys should pass; the same key gives a diagonal table (every unit has
    the same variant in both: carry-over), and GrowthBook's hash v1 with keys that differ
    only at the end fails badly.

    Parameters
    ----------
    variants_a, variants_b : array-like of int, same shape (..., n)
        Variant indices from :func:`assign_many`, -1 for units not enrolled. Leading axes
        give one test per row. The table has one row (column) per variant of A (B) that
        appears among the units enrolled in both, in increasing order.

    Returns
    -------
    IndependenceTest

    References
    ----------
    Agresti, A. (2013), *Categorical Data Analysis*, 3rd ed., section 3.2.
    """
    a = _check_variants("variants_a", variants_a)
    b = _check_variants("variants_b", variants_b)
    if a.shape != b.shape:
        raise ValueError(
            f"variants_a and variants_b must have the same shape, got {a.shape} and {b.shape}"
        )
    rows_a, rows_b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    n_tests = rows_a.shape[0]
    both = (rows_a >= 0) & (rows_b >= 0)
    if not both.any():
        raise ValueError("no unit is enrolled in both experiments (variants_a and variants_b)")
    levels_a, codes_a = np.unique(rows_a[both], return_inverse=True)
    levels_b, codes_b = np.unique(rows_b[both], return_inverse=True)
    k_a, k_b = levels_a.size, levels_b.size
    check_work("tests x variants of variants_a x variants of variants_b", n_tests * k_a * k_b)
    test_index = np.broadcast_to(np.arange(n_tests)[:, None], rows_a.shape)[both]
    cells = (test_index * k_a + codes_a.ravel()) * k_b + codes_b.ravel()
    table = np.bincount(cells, minlength=n_tests * k_a * k_b).reshape(n_tests, k_a, k_b)
    n = table.sum(axis=(1, 2))
    row_totals, column_totals = table.sum(axis=2), table.sum(axis=1)
    df = ((row_totals > 0).sum(axis=1) - 1) * ((column_totals > 0).sum(axis=1) - 1)
    if (df < 1).any():
        raise ValueError(
            "variants_a and variants_b must each put the units enrolled in both experiments "
            "in at least 2 variants"
        )
    expected = row_totals[:, :, None] * column_totals[:, None, :] / n[:, None, None]
    filled = expected > 0
    terms = np.where(filled, (table - expected) ** 2 / np.where(filled, expected, 1.0), 0.0)
    statistic = terms.sum(axis=(1, 2))
    pvalue = stats.chi2.sf(statistic, df)
    lead = a.shape[:-1]
    if not lead:
        return IndependenceTest(
            statistic=float(statistic[0]),
            pvalue=float(pvalue[0]),
            df=int(df[0]),
            table=table[0],
            n_units=int(n[0]),
        )
    return IndependenceTest(
        statistic=statistic.reshape(lead),
        pvalue=pvalue.reshape(lead),
        df=df.reshape(lead),
        table=table.reshape(*lead, k_a, k_b),
        n_units=n.reshape(lead),
    )
