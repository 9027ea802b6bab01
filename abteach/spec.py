"""An experiment specification as code: write the plan down before the data arrive.

An :class:`ExperimentSpec` holds what Kohavi, Tang & Xu (2020, ch. 2 and 7) ask to settle
before launch: a falsifiable hypothesis, one primary metric (the overall evaluation
criterion, OEC) with the smallest effect worth detecting, guardrail metrics that must not
degrade, the error rates, the traffic split and who is eligible. It loads from YAML or a
dict, dumps back to YAML, refuses typos and bad values with the path of the field, and
computes the sample size and duration the plan implies.

Example YAML::

    name: checkout-button-colour
    hypothesis: A green checkout button raises the purchase rate by at least 0.5 points.
    eligibility: Logged-in users who reach the cart page.
    primary_metric:
      name: purchase_rate
      kind: proportion
      baseline: 0.1
      mde: 0.005
      direction: increase
    allocation: {control: 0.5, treatment: 0.5}
    guardrails:
      - {name: page_load_time, tolerated_degradation: 0.02, bad_direction: increase}
      - {name: revenue_per_user, tolerated_degradation: 0.01, bad_direction: decrease}
    alpha: 0.05
    power: 0.8
    daily_eligible_units: 20000
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import yaml

KINDS = ("proportion", "mean")
DIRECTIONS = ("increase", "decrease")
#: Allowed distance of the allocation weights' sum from 1 (YAML decimals are rounded).
WEIGHT_TOLERANCE = 1e-6


def _fail(path: str, message: str, value) -> ValueError:
    return ValueError(f"spec field '{path}' {message}, got {value!r}")


def _text(path: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, "must be a non-empty string", value)
    return value


def _choice(path: str, value, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _fail(path, "must be one of " + ", ".join(repr(c) for c in choices), value)
    return value


def _number(path: str, value) -> float:
    """A finite real number; booleans and strings are refused, with a hint for YAML's 1e-2."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            pass
        else:
            raise _fail(
                path,
                "must be a number, not a string (YAML reads 1e-2 as text: write 1.0e-2 or 0.01)",
                value,
            )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(path, "must be a number", value)
    if not math.isfinite(value):
        raise _fail(path, "must be finite", value)
    return float(value)


def _unit(path: str, value) -> float:
    number = _number(path, value)
    if not 0 < number < 1:
        raise _fail(path, "must be in (0, 1)", value)
    return number


def _build(cls, data, path: str):
    """Construct dataclass ``cls`` from a mapping, refusing unknown and missing fields by name."""
    if isinstance(data, cls):
        return data
    where = f"spec field '{path}'" if path else "spec"
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} must be a mapping of fields, got {data!r}")
    known = [f.name for f in fields(cls)]
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            name = f"{path}.{key}" if path else key
            raise ValueError(
                f"unknown spec field '{name}'{hint}; known fields: {', '.join(known)}"
            )
    for spec_field in fields(cls):
        required = spec_field.default is MISSING and spec_field.default_factory is MISSING
        if required and spec_field.name not in data:
            full = f"{path}.{spec_field.name}" if path else spec_field.name
            raise ValueError(f"spec field '{full}' is required but missing")
    try:
        return cls(**data)
    except ValueError as exc:  # name the field by its full path in the spec
        if not path:
            raise
        raise ValueError(str(exc).replace("spec field '", f"spec field '{path}.", 1)) from None


@dataclass(frozen=True)
class Metric:
    """The primary metric (OEC), validated on construction.

    ``baseline`` is the control value (a rate for ``kind="proportion"``), ``mde`` the
    minimum detectable effect as an absolute difference (> 0) and ``direction`` the way
    the hypothesis expects the metric to move.
    """

    name: str
    kind: str
    baseline: float
    mde: float
    direction: str = "increase"

    def __post_init__(self) -> None:
        baseline, mde = _check_metric(self)
        object.__setattr__(self, "baseline", baseline)
        object.__setattr__(self, "mde", mde)

    @property
    def target(self) -> float:
        """The value the hypothesis expects in treatment (baseline +/- mde)."""
        return self.baseline + (self.mde if self.direction == "increase" else -self.mde)


@dataclass(frozen=True)
class Guardrail:
    """A metric that must not degrade by more than ``tolerated_degradation``.

    The tolerance is relative to the control value, as a fraction (0.02 means at most 2%
    worse), in the direction ``bad_direction`` ("increase" for page load time or refunds;
    "decrease" for revenue or retention). ``bad_direction`` is required: a default would
    silently read a revenue gain as a degradation. :func:`abteach.decision.guardrail_check`
    tests it.
    """

    name: str
    tolerated_degradation: float
    bad_direction: str

    def __post_init__(self) -> None:
        _text("name", self.name)
        tolerance = _number("tolerated_degradation", self.tolerated_degradation)
        if tolerance <= 0:
            raise _fail("tolerated_degradation", "must be > 0", tolerance)
        _choice("bad_direction", self.bad_direction, DIRECTIONS)
        object.__setattr__(self, "tolerated_degradation", tolerance)


@dataclass(frozen=True)
class ExperimentSpec:
    """A pre-registered experiment plan; every field is validated on construction.

    Required: ``name``, ``hypothesis`` (the falsifiable statement), ``eligibility`` (who
    enters), ``primary_metric`` (a :class:`Metric` or a mapping of its fields) and
    ``allocation`` (variant name -> weight, weights > 0 summing to 1, at least two
    variants, one of them named by ``control``). Optional: ``control`` (default
    "control"), ``guardrails`` (:class:`Guardrail` objects or mappings), ``secondary_metrics``
    (names), ``alpha`` (two-sided, default 0.05), ``power`` (default 0.8) and
    ``daily_eligible_units`` (eligible units a day, for :meth:`duration_days`).

    Errors are ``ValueError`` naming the field path and quoting the bad value, e.g.
    ``spec field 'alpha' must be in (0, 1), got 1.5``.
    """

    name: str
    hypothesis: str
    eligibility: str
    primary_metric: Metric
    allocation: dict[str, float] = field(hash=False)
    control: str = "control"
    guardrails: tuple[Guardrail, ...] = ()
    secondary_metrics: tuple[str, ...] = ()
    alpha: float = 0.05
    power: float = 0.8
    daily_eligible_units: float | None = None

    def __post_init__(self) -> None:
        def put(name: str, value) -> None:
            object.__setattr__(self, name, value)

        for name in ("name", "hypothesis", "eligibility"):
            _text(name, getattr(self, name))
        put("primary_metric", _build(Metric, self.primary_metric, "primary_metric"))
        put("allocation", _check_allocation(self.allocation))
        if not isinstance(self.control, str) or self.control not in self.allocation:
            variants = ", ".join(repr(v) for v in self.allocation)
            message = f"must name a variant of 'allocation' ({variants})"
            raise _fail("control", message, self.control)
        put("guardrails", _check_guardrails(self.guardrails))
        put("secondary_metrics", _check_names("secondary_metrics", self.secondary_metrics))
        put("alpha", _unit("alpha", self.alpha))
        put("power", _unit("power", self.power))
        if self.daily_eligible_units is not None:
            daily = _number("daily_eligible_units", self.daily_eligible_units)
            if daily <= 0:
                raise _fail("daily_eligible_units", "must be > 0", self.daily_eligible_units)
            put("daily_eligible_units", daily)

    @classmethod
    def from_dict(cls, data) -> ExperimentSpec:
        """Build a spec from a mapping such as ``yaml.safe_load`` returns."""
        return _build(cls, data, "")

    @classmethod
    def from_yaml(cls, source) -> ExperimentSpec:
        """Build a spec from YAML text, or from a file given as a path or a one-line file name.

        Only ``yaml.safe_load`` is used: a spec file cannot run code.
        """
        if isinstance(source, os.PathLike) or (
            isinstance(source, str) and "\n" not in source and os.path.isfile(source)
        ):
            source = Path(source).read_text(encoding="utf-8")
        if not isinstance(source, str):
            raise TypeError(f"source must be YAML text or a path, got {source!r}")
        try:
            data = yaml.safe_load(source)
        except yaml.YAMLError as exc:
            raise ValueError(f"spec is not valid YAML: {exc}") from None
        if isinstance(data, str):
            raise ValueError(
                f"spec must be a mapping of fields, got the string {data!r} "
                "(if it is a file name, there is no such file)"
            )
        return cls.from_dict(data)

    def to_dict(self) -> dict:
        """Plain dicts, lists and numbers, in field order; ``from_dict`` inverts it."""
        return {
            "name": self.name,
            "hypothesis": self.hypothesis,
            "eligibility": self.eligibility,
            "primary_metric": _plain(self.primary_metric),
            "allocation": dict(self.allocation),
            "control": self.control,
            "guardrails": [_plain(g) for g in self.guardrails],
            "secondary_metrics": list(self.secondary_metrics),
            "alpha": self.alpha,
            "power": self.power,
            "daily_eligible_units": self.daily_eligible_units,
        }

    def to_yaml(self) -> str:
        """YAML text that :meth:`from_yaml` reads back into an equal spec."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def required_sample_size(self) -> dict[str, int]:
        """Units needed in each variant for the planned two-sided test of the primary metric.

        For each treatment the control arm's size comes from
        :func:`abteach.power.sample_size_proportions` with ``p_control = baseline``,
        ``p_treatment = baseline +/- mde``, the spec's ``alpha`` and ``power`` and
        ``ratio = treatment weight / control weight``; the treatment gets ``ratio`` times
        as many. With more than one treatment the largest control size is kept (each
        treatment is compared with control at the full ``alpha``, with no correction for
        multiple comparisons). Sizes are rounded up.

        Raises
        ------
        NotImplementedError
            For a ``"mean"`` primary metric (its sample size needs a standard deviation).
        """
        n_control, ratios = self._control_size()
        sizes = {self.control: math.ceil(n_control)}
        sizes.update({variant: math.ceil(ratio * n_control) for variant, ratio in ratios.items()})
        return {variant: sizes[variant] for variant in self.allocation}

    def _control_size(self) -> tuple[float, dict[str, float]]:
        """Unrounded control size, and n_variant / n_control for each treatment."""
        metric = self.primary_metric
        if metric.kind != "proportion":
            raise NotImplementedError(
                "required_sample_size() supports 'proportion' primary metrics, "
                f"got kind {metric.kind!r}"
            )
        from abteach.power import sample_size_proportions

        weight_control = self.allocation[self.control]
        ratios = {
            variant: weight / weight_control
            for variant, weight in self.allocation.items()
            if variant != self.control
        }
        n_control = max(
            sample_size_proportions(
                metric.baseline, metric.target, alpha=self.alpha, power=self.power, ratio=ratio
            )
            for ratio in ratios.values()
        )
        return n_control, ratios

    def duration_days(self) -> int:
        """Whole days of traffic until every variant has the units it needs (before rounding).

        Variant ``v`` receives ``daily_eligible_units * weight_v`` units a day and needs a
        share ``weight_v / control weight`` of the control's units, so all variants fill up
        on the same day: :func:`abteach.power.duration_days` with the unrounded control size
        and ``ratio = (1 - control weight) / control weight``, rounded up.
        Kohavi, Tang & Xu (2020, ch. 17) advise running whole weeks anyway, to cover weekly
        cycles.
        """
        if self.daily_eligible_units is None:
            raise ValueError(
                "spec field 'daily_eligible_units' is needed for duration_days(), got None"
            )
        from abteach.power import duration_days

        weight_control = self.allocation[self.control]
        days = duration_days(
            self._control_size()[0],
            self.daily_eligible_units,
            ratio=(1 - weight_control) / weight_control,
        )
        return math.ceil(days)


def _plain(record) -> dict:
    """The fields of a Metric or Guardrail as a plain dict."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _check_metric(metric: Metric) -> tuple[float, float]:
    """Check a Metric's fields (named as in the Metric); return baseline and mde as floats."""
    _text("name", metric.name)
    _choice("kind", metric.kind, KINDS)
    _choice("direction", metric.direction, DIRECTIONS)
    baseline = _number("baseline", metric.baseline)
    mde = _number("mde", metric.mde)
    if mde <= 0:
        raise _fail("mde", "must be > 0 (an absolute difference)", metric.mde)
    if metric.kind == "proportion":
        if not 0 < baseline < 1:
            raise _fail("baseline", "must be in (0, 1) for a proportion metric", baseline)
        target = baseline + (mde if metric.direction == "increase" else -mde)
        if not 0 < target < 1:
            raise _fail(
                "mde",
                f"puts the treatment rate at {target:.6g}, outside (0, 1) "
                f"(baseline {baseline:.6g}, direction {metric.direction!r})",
                mde,
            )
    return baseline, mde


def _check_allocation(allocation) -> dict[str, float]:
    if not isinstance(allocation, Mapping):
        raise _fail("allocation", "must be a mapping of variant name -> weight", allocation)
    if len(allocation) < 2:
        raise _fail("allocation", "must have at least two variants", dict(allocation))
    checked = {}
    for variant, weight in allocation.items():
        if not isinstance(variant, str) or not variant.strip():
            raise _fail(
                "allocation",
                "variant names must be non-empty strings (YAML reads unquoted "
                "yes/no/on/off as booleans and 1 as a number: quote the name)",
                variant,
            )
        checked[variant] = _number(f"allocation.{variant}", weight)
        if checked[variant] <= 0:
            raise _fail(f"allocation.{variant}", "must be > 0", weight)
    total = sum(checked.values())
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise ValueError(f"spec field 'allocation' weights must sum to 1, got {total:.6g}")
    return checked


def _check_sequence(path: str, value) -> tuple:
    """A list or tuple; None (an empty YAML entry) counts as empty."""
    if value is None:
        return ()
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
        raise _fail(path, "must be a list", value)
    return tuple(value)


def _check_unique(path: str, names: list[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise _fail(path, "must not repeat a metric", name)
        seen.add(name)


def _check_names(path: str, value) -> tuple[str, ...]:
    names = tuple(_text(f"{path}[{i}]", v) for i, v in enumerate(_check_sequence(path, value)))
    _check_unique(path, list(names))
    return names


def _check_guardrails(value) -> tuple[Guardrail, ...]:
    checked = []
    for i, item in enumerate(_check_sequence("guardrails", value)):
        checked.append(_build(Guardrail, item, f"guardrails[{i}]"))
    _check_unique("guardrails", [g.name for g in checked])
    return tuple(checked)
