"""Tests of abteach.spec.ExperimentSpec: YAML round trips, validation, sample size, duration."""

from __future__ import annotations

import copy
import math
import textwrap

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import published
from abteach.spec import ExperimentSpec, Guardrail, Metric

BASE = {
    "name": "checkout-button-colour",
    "hypothesis": "A green checkout button raises the purchase rate by at least 2 points.",
    "eligibility": "Logged-in users who reach the cart page.",
    "primary_metric": {
        "name": "purchase_rate", "kind": "proportion", "baseline": 0.10, "mde": 0.02,
        "direction": "increase",
    },
    "allocation": {"control": 0.5, "treatment": 0.5},
    "guardrails": [{"name": "page_load_time", "tolerated_degradation": 0.02,
                    "bad_direction": "increase"}],
    "secondary_metrics": ["revenue_per_user"],
    "alpha": 0.05,
    "power": 0.8,
    "daily_eligible_units": 1000,
}

YAML_TEXT = """\
# a spec as a learner writes it
name: checkout-button-colour
hypothesis: A green checkout button raises the purchase rate by at least 2 points.
eligibility: Logged-in users who reach the cart page.
primary_metric:
  name: purchase_rate
  kind: proportion
  baseline: 0.10
  mde: 0.02
allocation: {control: 0.5, treatment: 0.5}
guardrails:
  - name: page_load_time
    tolerated_degradation: 0.02
    bad_direction: increase
secondary_metrics: [revenue_per_user]
daily_eligible_units: 1000
"""


def spec_with(path: str, value=None, *, delete: bool = False) -> dict:
    """BASE with the field at a dotted path ('primary_metric.mde', 'guardrails.0.name') changed."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        last = int(last)
    if delete:
        del node[last]
    else:
        node[last] = value
    return data


# --- loading and dumping ------------------------------------------------------------------


def test_yaml_text_gives_the_same_spec_as_the_dict():
    assert ExperimentSpec.from_yaml(YAML_TEXT) == ExperimentSpec.from_dict(BASE)


def test_yaml_round_trip():
    spec = ExperimentSpec.from_dict(BASE)
    text = spec.to_yaml()
    assert ExperimentSpec.from_yaml(text) == spec
    assert ExperimentSpec.from_yaml(text).to_yaml() == text
    assert list(yaml.safe_load(text))[:4] == ["name", "hypothesis", "eligibility", "primary_metric"]


def test_dict_round_trip():
    spec = ExperimentSpec.from_dict(BASE)
    assert ExperimentSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["primary_metric"] == BASE["primary_metric"]


def test_load_from_a_file_path(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(YAML_TEXT, encoding="utf-8")
    expected = ExperimentSpec.from_dict(BASE)
    assert ExperimentSpec.from_yaml(path) == expected
    assert ExperimentSpec.from_yaml(str(path)) == expected


def test_defaults_and_normalised_types():
    data = {key: BASE[key] for key in
            ("name", "hypothesis", "eligibility", "primary_metric", "allocation")}
    spec = ExperimentSpec.from_dict(data)
    assert (spec.alpha, spec.power, spec.control) == (0.05, 0.8, "control")
    assert spec.guardrails == () and spec.secondary_metrics == ()
    assert spec.daily_eligible_units is None
    full = ExperimentSpec.from_dict(BASE)
    assert full.guardrails == (Guardrail("page_load_time", 0.02, "increase"),)
    assert isinstance(full.primary_metric, Metric)
    assert type(full.daily_eligible_units) is float


def test_guardrail_bad_direction_is_required_and_round_trips():
    """Which way is bad differs by metric (page load time: up; revenue: down): no default."""
    data = spec_with("guardrails.0.bad_direction", delete=True)
    with pytest.raises(ValueError, match=r"spec field 'guardrails\[0\].bad_direction' is required"):
        ExperimentSpec.from_dict(data)
    spec = ExperimentSpec.from_dict(BASE)
    assert spec.guardrails[0].bad_direction == "increase"
    data = spec_with("guardrails.0.bad_direction", "decrease")
    spec = ExperimentSpec.from_dict(data)
    assert spec.guardrails == (Guardrail("page_load_time", 0.02, "decrease"),)
    assert ExperimentSpec.from_yaml(spec.to_yaml()) == spec
    assert spec.to_dict()["guardrails"] == [
        {"name": "page_load_time", "tolerated_degradation": 0.02, "bad_direction": "decrease"}
    ]


def test_empty_yaml_lists_mean_none():
    spec = ExperimentSpec.from_yaml(YAML_TEXT.replace(
        "secondary_metrics: [revenue_per_user]", "secondary_metrics:"))
    assert spec.secondary_metrics == ()


def test_constructor_validates_and_spec_is_frozen_and_hashable():
    spec = ExperimentSpec(
        name="x", hypothesis="h", eligibility="e",
        primary_metric=Metric("m", "proportion", 0.2, 0.01),
        allocation={"control": 0.5, "b": 0.5},
    )
    with pytest.raises(AttributeError):
        spec.alpha = 0.1
    assert isinstance(hash(spec), int)
    with pytest.raises(ValueError, match="spec field 'primary_metric.baseline'"):
        ExperimentSpec(name="x", hypothesis="h", eligibility="e",
                       primary_metric={"name": "m", "kind": "proportion", "baseline": 2.0,
                                       "mde": 0.01},
                       allocation={"control": 0.5, "b": 0.5})


@pytest.mark.parametrize("build, field", [
    (lambda: Metric("m", "proportion", 2.0, 0.01), "baseline"),
    (lambda: Metric("m", "proportion", float("nan"), 0.01), "baseline"),
    (lambda: Metric(float("nan"), "proportion", 0.1, 0.01), "name"),
    (lambda: Metric("m", "ratio?", 0.1, 0.01), "kind"),
    (lambda: Metric("m", "proportion", 0.1, [0.01]), "mde"),
    (lambda: Guardrail("latency", float("nan"), "increase"), "tolerated_degradation"),
    (lambda: Guardrail("latency", 0.02, None), "bad_direction"),
    (lambda: Guardrail("", 0.02, "increase"), "name"),
])
def test_metric_and_guardrail_validate_on_construction(build, field):
    """Metric and Guardrail once accepted NaN and any type until placed in a spec."""
    with pytest.raises(ValueError, match=f"spec field '{field}'"):
        build()


def test_metric_target_follows_the_direction():
    assert Metric("m", "proportion", 0.1, 0.02).target == pytest.approx(0.12)
    assert Metric("m", "proportion", 0.1, 0.02, "decrease").target == pytest.approx(0.08)


# --- validation ---------------------------------------------------------------------------

SUM_CASE = {"control": 0.5, "treatment": 0.4}

CASES = [
    ("alpha", 1.5, "spec field 'alpha' must be in (0, 1), got 1.5"),
    ("alpha", 0, "spec field 'alpha' must be in (0, 1), got 0"),
    ("alpha", "0.05", "spec field 'alpha' must be a number, not a string"),
    ("alpha", True, "spec field 'alpha' must be a number, got True"),
    ("alpha", float("nan"), "spec field 'alpha' must be finite, got nan"),
    ("power", 1, "spec field 'power' must be in (0, 1), got 1"),
    ("power", None, "spec field 'power' must be a number, got None"),
    ("allocation", SUM_CASE, "spec field 'allocation' weights must sum to 1, got 0.9"),
    ("allocation", {"control": 1.0}, "spec field 'allocation' must have at least two variants"),
    ("allocation", {"control": 1.0, "treatment": 0}, "spec field 'allocation.treatment' must be > 0"),
    ("allocation", {"control": 1.5, "treatment": -0.5}, "'allocation.treatment' must be > 0"),
    ("allocation", ["control", "treatment"], "spec field 'allocation' must be a mapping"),
    ("allocation", {"control": 0.5, True: 0.5}, "variant names must be non-empty strings"),
    ("allocation", {"control": 0.5, "b": "half"}, "spec field 'allocation.b' must be a number"),
    ("control", "ctrl", "spec field 'control' must name a variant of 'allocation'"),
    ("name", "", "spec field 'name' must be a non-empty string, got ''"),
    ("hypothesis", None, "spec field 'hypothesis' must be a non-empty string, got None"),
    ("eligibility", 3, "spec field 'eligibility' must be a non-empty string, got 3"),
    ("primary_metric", "purchase_rate", "spec field 'primary_metric' must be a mapping"),
    ("primary_metric.kind", "ratio",
     "spec field 'primary_metric.kind' must be one of 'proportion', 'mean', got 'ratio'"),
    ("primary_metric.direction", "up", "spec field 'primary_metric.direction' must be one of"),
    ("primary_metric.name", "", "spec field 'primary_metric.name' must be a non-empty string"),
    ("primary_metric.baseline", 1.5,
     "spec field 'primary_metric.baseline' must be in (0, 1) for a proportion metric, got 1.5"),
    ("primary_metric.mde", 0, "spec field 'primary_metric.mde' must be > 0"),
    ("primary_metric.mde", -0.01, "spec field 'primary_metric.mde' must be > 0"),
    ("primary_metric.mde", 0.95, "puts the treatment rate at 1.05, outside (0, 1)"),
    ("guardrails", "page_load_time", "spec field 'guardrails' must be a list"),
    ("guardrails.0", "page_load_time", "spec field 'guardrails[0]' must be a mapping"),
    ("guardrails.0.tolerated_degradation", -0.1,
     "spec field 'guardrails[0].tolerated_degradation' must be > 0, got -0.1"),
    ("guardrails.0.tolerated_degradation", 0,
     "spec field 'guardrails[0].tolerated_degradation' must be > 0, got 0"),
    ("guardrails.0.name", None, "spec field 'guardrails[0].name' must be a non-empty string"),
    ("guardrails.0.bad_direction", "worse",
     "spec field 'guardrails[0].bad_direction' must be one of 'increase', 'decrease', "
     "got 'worse'"),
    ("guardrails.0.bad_direction", None,
     "spec field 'guardrails[0].bad_direction' must be one of"),
    ("guardrails", [{"name": "a", "tolerated_degradation": 0.01, "bad_direction": "increase"}] * 2,
     "spec field 'guardrails' must not repeat a metric, got 'a'"),
    ("secondary_metrics", "revenue", "spec field 'secondary_metrics' must be a list"),
    ("secondary_metrics", ["ok", ""], "spec field 'secondary_metrics[1]' must be a non-empty"),
    ("daily_eligible_units", 0, "spec field 'daily_eligible_units' must be > 0, got 0"),
    ("daily_eligible_units", "many", "spec field 'daily_eligible_units' must be a number"),
    ("alpah", 0.05, "unknown spec field 'alpah' (did you mean 'alpha'?)"),
    ("primary_metric.baseline_rate", 0.1,
     "unknown spec field 'primary_metric.baseline_rate' (did you mean 'baseline'?)"),
    ("guardrails.0.degradation", 0.1,
     "unknown spec field 'guardrails[0].degradation' (did you mean 'tolerated_degradation'?)"),
]


@pytest.mark.parametrize(("path", "value", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_field_is_named_with_its_value(path, value, message):
    with pytest.raises(ValueError) as info:
        ExperimentSpec.from_dict(spec_with(path, value))
    assert message in str(info.value)


@pytest.mark.parametrize(
    "path",
    ["name", "hypothesis", "eligibility", "primary_metric", "allocation",
     "primary_metric.name", "primary_metric.kind", "primary_metric.baseline",
     "primary_metric.mde", "guardrails.0.tolerated_degradation"],
)
def test_missing_required_field_is_named(path):
    shown = path.replace("guardrails.0", "guardrails[0]")
    with pytest.raises(ValueError) as info:
        ExperimentSpec.from_dict(spec_with(path, delete=True))
    assert f"spec field '{shown}' is required but missing" in str(info.value)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("- a\n- b\n", "spec must be a mapping of fields, got ['a', 'b']"),
        ("name: [unclosed\n", "spec is not valid YAML"),
        ("missing-spec.yaml", "got the string 'missing-spec.yaml' (if it is a file name"),
        (YAML_TEXT.replace("daily_eligible_units: 1000", "alpha: 1e-2"),
         "YAML reads 1e-2 as text: write 1.0e-2 or 0.01"),
        (YAML_TEXT.replace("{control: 0.5, treatment: 0.5}", "{control: 0.5, on: 0.5}"),
         "YAML reads unquoted yes/no/on/off as booleans"),
    ],
)
def test_yaml_errors_are_explained(source, message):
    with pytest.raises(ValueError) as info:
        ExperimentSpec.from_yaml(source)
    assert message in str(info.value)


def test_yaml_loading_is_safe():
    """safe_load refuses python-specific tags, so a spec file cannot run code."""
    with pytest.raises(ValueError, match="spec is not valid YAML"):
        ExperimentSpec.from_yaml("name: !!python/object/apply:os.system ['true']\n")


def test_from_yaml_refuses_other_types():
    with pytest.raises(TypeError, match="source must be YAML text or a path"):
        ExperimentSpec.from_yaml(42)


def test_weights_summing_to_one_within_rounding_are_accepted():
    third = 0.333333333
    data = spec_with("allocation", {"control": third, "b": third, "c": 1 - 2 * third})
    assert len(ExperimentSpec.from_dict(data).allocation) == 3


junk = st.one_of(st.none(), st.booleans(), st.text(max_size=4), st.floats(allow_nan=True),
                 st.integers(-10, 10), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=3), st.floats(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(["name", "hypothesis", "eligibility", "primary_metric",
                             "primary_metric.kind", "primary_metric.baseline",
                             "primary_metric.mde", "primary_metric.direction", "allocation",
                             "control", "guardrails", "guardrails.0", "secondary_metrics",
                             "alpha", "power", "daily_eligible_units"]),
       value=junk)
def test_fuzz_bad_fields_only_raise_named_value_errors(path, value):
    try:
        spec = ExperimentSpec.from_dict(spec_with(path, value))
    except ValueError as exc:
        top = path.split(".")[0]
        assert f"spec field '{top}" in str(exc), str(exc)
    else:
        assert ExperimentSpec.from_yaml(spec.to_yaml()) == spec


names = st.text(alphabet="abcdefghij_-:# 'é0123456789", min_size=1, max_size=12).filter(
    lambda s: s.strip())


@st.composite
def valid_specs(draw):
    baseline = draw(st.floats(0.01, 0.9))
    variants = draw(st.lists(names, min_size=2, max_size=4, unique=True))
    raw = draw(st.lists(st.floats(0.05, 1.0), min_size=len(variants), max_size=len(variants)))
    weights = [w / sum(raw) for w in raw]
    return {
        "name": draw(names),
        "hypothesis": draw(st.text(min_size=1, max_size=80).filter(lambda s: s.strip())),
        "eligibility": draw(names),
        "primary_metric": {"name": draw(names), "kind": "proportion", "baseline": baseline,
                           "mde": draw(st.floats(0.001, min(0.09, 0.99 * baseline))),
                           "direction": draw(st.sampled_from(["increase", "decrease"]))},
        "allocation": dict(zip(variants, weights)),
        "control": variants[0],
        "guardrails": [{"name": n, "tolerated_degradation": draw(st.floats(0.001, 0.5)),
                        "bad_direction": draw(st.sampled_from(["increase", "decrease"]))}
                       for n in draw(st.lists(names, max_size=3, unique=True))],
        "secondary_metrics": draw(st.lists(names, max_size=3, unique=True)),
        "alpha": draw(st.floats(0.001, 0.2)),
        "power": draw(st.floats(0.5, 0.99)),
        "daily_eligible_units": draw(st.one_of(st.none(), st.integers(1, 10**7))),
    }


@settings(max_examples=150, deadline=None)
@given(data=valid_specs())
def test_any_valid_spec_round_trips_through_yaml(data):
    spec = ExperimentSpec.from_dict(data)
    assert ExperimentSpec.from_yaml(spec.to_yaml()) == spec


# --- sample size and duration -------------------------------------------------------------


def test_sample_size_reproduces_r_power_prop_test():
    """0.10 vs 0.12, alpha 0.05, power 0.80: n = 3840.847 per arm.

    Source: published_numbers.md SS04, R power.prop.test output; rounded up to 3841.
    """
    spec = ExperimentSpec.from_dict(BASE)
    n = math.ceil(published.value("SS04"))
    assert spec.required_sample_size() == {"control": n, "treatment": n} == {
        "control": 3841, "treatment": 3841}


@pytest.mark.parametrize(
    ("allocation", "direction"),
    [({"control": 0.5, "treatment": 0.5}, "increase"),
     ({"control": 0.25, "treatment": 0.75}, "increase"),
     ({"control": 0.7, "treatment": 0.3}, "decrease")],
)
def test_sample_size_agrees_with_calling_power_directly(allocation, direction):
    from abteach.power import sample_size_proportions

    data = spec_with("allocation", allocation)
    data["primary_metric"]["direction"] = direction
    data["alpha"], data["power"] = 0.01, 0.9
    p_treatment = 0.12 if direction == "increase" else 0.08
    ratio = allocation["treatment"] / allocation["control"]
    n = sample_size_proportions(0.10, p_treatment, alpha=0.01, power=0.9, ratio=ratio)
    sizes = ExperimentSpec.from_dict(data).required_sample_size()
    assert sizes == {"control": math.ceil(n), "treatment": math.ceil(ratio * n)}


def test_sample_size_with_several_treatments_keeps_the_largest_control():
    from abteach.power import sample_size_proportions

    data = spec_with("allocation", {"control": 0.4, "a": 0.4, "b": 0.2})
    sizes = ExperimentSpec.from_dict(data).required_sample_size()
    n_a = sample_size_proportions(0.10, 0.12, ratio=1.0)
    n_b = sample_size_proportions(0.10, 0.12, ratio=0.5)
    n_control = max(n_a, n_b)
    assert sizes == {"control": math.ceil(n_control), "a": math.ceil(n_control),
                     "b": math.ceil(0.5 * n_control)}


def test_duration_in_whole_days():
    """3,841 per arm with 1,000 eligible units a day split 50/50: 3841 / 500 = 7.68 -> 8 days."""
    assert ExperimentSpec.from_dict(BASE).duration_days() == 8
    slower = ExperimentSpec.from_dict(spec_with("daily_eligible_units", 100))
    assert slower.duration_days() == math.ceil(3841 / 50)


@pytest.mark.parametrize(
    "allocation",
    [{"control": 0.8, "treatment": 0.2}, {"control": 0.2, "treatment": 0.8},
     {"control": 0.5, "a": 0.3, "b": 0.2}],
)
def test_duration_is_the_first_day_every_arm_is_full(allocation):
    """Each arm must reach its unrounded size (the control's, times weight / control weight)."""
    from abteach.power import sample_size_proportions

    spec = ExperimentSpec.from_dict(spec_with("allocation", allocation))
    w_c = allocation["control"]
    n_control = max(sample_size_proportions(0.10, 0.12, ratio=w / w_c)
                    for v, w in allocation.items() if v != "control")
    needed = {v: n_control * w / w_c for v, w in allocation.items()}
    days = spec.duration_days()
    assert all(days * 1000 * w >= needed[v] * (1 - 1e-12) for v, w in allocation.items())
    assert any((days - 1) * 1000 * w < needed[v] for v, w in allocation.items())


def test_duration_needs_traffic():
    spec = ExperimentSpec.from_dict(spec_with("daily_eligible_units", None))
    with pytest.raises(ValueError, match="spec field 'daily_eligible_units' is needed"):
        spec.duration_days()


def test_sample_size_for_a_mean_metric_is_not_implemented():
    data = spec_with("primary_metric.kind", "mean")
    data["primary_metric"]["baseline"] = 35.0
    with pytest.raises(NotImplementedError, match="got kind 'mean'"):
        ExperimentSpec.from_dict(data).required_sample_size()


def test_docstring_example_is_a_valid_spec():
    import abteach.spec

    example = abteach.spec.__doc__.split("Example YAML::")[1]
    spec = ExperimentSpec.from_yaml(textwrap.dedent(example).strip() + "\n")
    assert spec.guardrails[0].name == "page_load_time"
