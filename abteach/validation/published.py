r"""Published numbers: figures from the literature and reference software, recomputed by abteach.

The figures live in ONE data file shipped with the package, ``abteach/data/published_numbers.json``
(id, quantity, inputs, source, the value as printed, the precision it is asserted to, and how
abteach recomputes it). :func:`published_numbers` reads it as a table, :data:`PUBLISHED_CHECKS`
turns every row into a :class:`PublishedCheck`, and :func:`published_checks` recomputes them
all and compares at the printed precision: a value printed with d decimals passes when

.. math:: |\text{abteach} - \text{published}| \le 0.5 \times 10^{-d},

a value printed with s significant digits within half a unit of the s-th digit, a count or an
integer hash exactly. The chapters, the appendix and the tests read the same file.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from abteach._validate import as_float_array, check_scalar
from abteach.validation.rates import _check_registry

#: Where the figures are. A file of the abteach package.
PUBLISHED_NUMBERS_FILE = "data/published_numbers.json"
_PRECISION = re.compile(r"(\d+) (decimal|significant digit)s?")


@dataclass(frozen=True)
class PublishedCheck:
    """One published figure: ``compute()`` recomputes it with abteach.

    ``precision`` is ``("decimals", d)`` (the source prints d decimals), ``("significant",
    s)`` (s significant digits) or ``("exact", 0)`` (a count or an integer hash).
    """

    id: str
    quantity: str
    source: str
    published: float
    precision: tuple[str, int]
    compute: Callable[[], float]

    def __post_init__(self):
        for name in ("id", "quantity", "source"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a string, got {getattr(self, name)!r}")
        check_scalar("published", as_float_array("published", self.published))
        _check_precision(self.precision)
        if not callable(self.compute):
            raise TypeError(f"compute must be callable () -> value, got {self.compute!r}")


def _tolerance(published: float, precision: tuple[str, int]) -> float:
    """Half a unit of the last printed digit (0 for exact values)."""
    kind, digits = precision
    if kind == "exact":
        return 0.0
    if kind == "decimals":
        return 0.5 * 10.0**-digits
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(published))) - digits + 1)


def _precision_text(precision: tuple[str, int]) -> str:
    kind, digits = precision
    if kind == "exact":
        return "exact"
    unit = "decimal" if kind == "decimals" else "significant digit"
    return f"{digits} {unit}{'s' if digits != 1 else ''}"


def _parse_precision(text: str) -> tuple[str, int]:
    """Inverse of :func:`_precision_text`: "3 decimals" -> ("decimals", 3)."""
    if text == "exact":
        return "exact", 0
    match = _PRECISION.fullmatch(text)
    if match is None:
        raise ValueError(f"precision must read 'exact', 'd decimals' or 's significant digits', "
                         f"got {text!r}")
    kind = "decimals" if match.group(2) == "decimal" else "significant"
    return kind, int(match.group(1))


def _check_precision(precision) -> None:
    """("decimals", d), ("significant", s) with s >= 1, or ("exact", 0)."""
    kind, digits = precision if isinstance(precision, tuple) and len(precision) == 2 else (0, 0)
    valid = (kind in ("decimals", "significant") and isinstance(digits, int)
             and not isinstance(digits, bool) and digits >= (kind == "significant")) or (
        kind == "exact" and digits == 0)
    if not valid:
        raise ValueError(f"precision must read ('decimals', d), ('significant', s) or "
                         f"('exact', 0), got {precision!r}")


def _parse_published(text: str) -> float:
    """The printed value as a number: hexadecimal ("0x811C9DC5") or decimal."""
    return float(int(text, 16)) if text.lower().startswith("0x") else float(text)


@functools.cache
def _document() -> dict:
    path = resources.files("abteach").joinpath(PUBLISHED_NUMBERS_FILE)
    return json.loads(path.read_text(encoding="utf-8"))


# --- recipes: computations that are not one public function call --------------------------------


def _dataset(name: str) -> dict:
    return _document()["datasets"][name]


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator


def _t_test_parameters(effect_size: float, n_per_arm: int) -> dict:
    """Noncentrality and critical t of the pooled two-sided t-test at alpha 0.05 (G*Power)."""
    from abteach.power import _t_parameters

    df, noncentrality, critical = _t_parameters(
        np.float64(effect_size), np.float64(n_per_arm), np.float64(1.0), np.float64(0.05),
        "two-sided")
    return {"df": float(df), "noncentrality": float(noncentrality), "critical_t": float(critical)}


def _cuped_variance_factor(rho: float) -> float:
    """Var(Y - theta X) / Var(Y) for a sample whose correlation is exactly ``rho``."""
    from abteach.variance import cuped_adjust

    rng = np.random.default_rng(2013)
    x, noise = rng.standard_normal((2, 10_000))
    x = (x - x.mean()) / x.std()
    noise -= noise.mean() + (noise @ x) / (x @ x) * x  # orthogonal to x, mean 0
    y = rho * x + math.sqrt(1 - rho**2) * noise / noise.std()
    return float(cuped_adjust(y, x).variance_factor)


def _hillstrom_rate(arm: str, column: str) -> float:
    """Visit or purchase rate of ``arm`` in percent, from the z-test of each e-mail arm against
    No E-Mail (its ``p_treatment`` and ``p_control``)."""
    from abteach.inference import ztest_proportions

    data = _dataset("hillstrom")
    n, counts = np.array(data["customers"]), np.array(data[column])
    control = data["arm"].index("No E-Mail")
    others = [i for i in range(len(n)) if i != control]
    res = ztest_proportions(counts[control], n[control], counts[others], n[others])
    rates = dict(zip([data["arm"][i] for i in others], np.asarray(res.p_treatment)))
    rates["No E-Mail"] = float(np.asarray(res.p_control).flat[0])
    return 100 * float(rates[arm])


def _hillstrom_spend_test(treatment: str, control: str):
    """Pooled two-sample t-test of spend per customer from the published aggregates."""
    from abteach.inference import welch_ttest_from_stats

    data = _dataset("hillstrom")

    def arm(name):
        i = data["arm"].index(name)
        n = data["customers"][i]
        return data["spend"][i] / n, data["spend_sd"][i], n

    return welch_ttest_from_stats(*arm(control), *arm(treatment), equal_var=True)


_RECIPES = {
    "ratio": _ratio,
    "t_test_parameters": _t_test_parameters,
    "cuped_variance_factor": _cuped_variance_factor,
    "hillstrom_rate": _hillstrom_rate,
    "hillstrom_spend_test": _hillstrom_spend_test,
}


def _argument(value):
    """An argument of the file: "@name.key" is the list ``key`` of the data set ``name``."""
    if isinstance(value, str) and value.startswith("@"):
        name, key = value[1:].split(".")
        return _dataset(name)[key]
    return value


def _compute(spec: Mapping) -> float:
    """Call the function of a row's ``compute`` object and pick its ``field`` and ``index``."""
    import abteach

    name = spec["function"]
    function = _RECIPES.get(name) or getattr(abteach, name)
    value = function(*map(_argument, spec.get("args", [])),
                     **{k: _argument(v) for k, v in spec.get("kwargs", {}).items()})
    if "field" in spec:
        field = spec["field"]
        value = value[field] if isinstance(value, Mapping) else getattr(value, field)
    if "index" in spec:
        value = np.asarray(value)[spec["index"]]
    return value


def _figures() -> list[dict]:
    return _document()["figures"]


def published_numbers() -> pd.DataFrame:
    """The published figures of the course as a table, read from the package's data file.

    Returns
    -------
    pandas.DataFrame
        One row per figure, in the order of the file: ``id`` (as in the course's list of
        published numbers), ``quantity``, ``inputs``, ``source``, ``printed`` (the value as
        the source prints it, a string), ``published`` (that value as a float),
        ``precision`` (text, e.g. "3 decimals") and ``tolerance`` (half a unit of the last
        printed digit, 0 for exact values).

    Examples
    --------
    >>> table = published_numbers()
    >>> row = table[table["id"] == "SS04"].iloc[0]
    >>> print(row["printed"], "-", row["source"])
    3840.847 - R power.prop.test output
    """
    rows = []
    for figure in _figures():
        published = _parse_published(figure["published"])
        precision = _parse_precision(figure["precision"])
        rows.append({
            "id": figure["id"],
            "quantity": figure["quantity"],
            "inputs": figure["inputs"],
            "source": figure["source"],
            "printed": figure["published"],
            "published": published,
            "precision": _precision_text(precision),
            "tolerance": _tolerance(published, precision),
        })
    return pd.DataFrame(rows)


def _checks_from_file() -> tuple[PublishedCheck, ...]:
    return tuple(
        PublishedCheck(
            figure["id"], figure["quantity"], figure["source"],
            _parse_published(figure["published"]), _parse_precision(figure["precision"]),
            functools.partial(_compute, figure["compute"]),
        )
        for figure in _figures()
    )


#: The registry of published figures, one per row of ``abteach/data/published_numbers.json``.
PUBLISHED_CHECKS: tuple[PublishedCheck, ...] = _checks_from_file()


def published_checks(checks: Sequence[PublishedCheck] | None = None) -> pd.DataFrame:
    r"""Recompute every published figure with abteach and compare it at the printed precision.

    A value printed with d decimals passes when :math:`|\text{abteach} - \text{published}|
    \le 0.5 \times 10^{-d}` (it rounds to the printed value, ties aside); with s significant
    digits, within half a unit of the s-th digit; a count or an integer hash must be equal.

    Parameters
    ----------
    checks : sequence of PublishedCheck, optional
        Default: all of :data:`PUBLISHED_CHECKS`.

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``id``, ``quantity``, ``source``, ``published``, ``abteach``,
        ``precision`` (text), ``tolerance``, ``abs_deviation`` and ``passed`` (bool).

    Examples
    --------
    >>> table = published_checks(PUBLISHED_CHECKS[:2])
    >>> print(table["id"].tolist(), table["passed"].tolist())
    ['SS03a', 'SS03b'] [True, True]
    """
    checks = _check_registry("checks", checks, PUBLISHED_CHECKS, PublishedCheck)
    rows = []
    for check in checks:
        value = float(as_float_array(f"the value computed for {check.id}", check.compute()))
        deviation = abs(value - check.published)
        tolerance = _tolerance(check.published, check.precision)
        rows.append({
            "id": check.id,
            "quantity": check.quantity,
            "source": check.source,
            "published": float(check.published),
            "abteach": value,
            "precision": _precision_text(check.precision),
            "tolerance": tolerance,
            "abs_deviation": deviation,
            "passed": bool(deviation <= tolerance * (1 + 1e-9)),
        })
    return pd.DataFrame(rows)
