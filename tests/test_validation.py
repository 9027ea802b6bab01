"""Tests of abteach.validation: the registries behind the appendix "How we know the numbers
are right".

The tests run the SAME registries as the appendix page: every promised error rate must be
within its binomial band (or beat a bound), every published figure must match at its printed
precision. Sources of the published figures: ``../shared/references/published_numbers.md``
(each row of PUBLISHED_CHECKS names its source in its ``source`` field).
"""

from __future__ import annotations

import json
import math
import os
import re
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import abteach as abt
from abteach import validation
from abteach.validation import (
    BAND_WIDTH,
    ERROR_RATE_CHECKS,
    PUBLISHED_CHECKS,
    ErrorRateCheck,
    PublishedCheck,
    error_rate_checks,
    published_checks,
    run_error_rate_check,
)
from conftest import ROOT

ERROR_COLUMNS = ["procedure", "function", "promise", "kind", "promised", "measured", "runs",
                 "se", "band_points", "runs_for_1_point", "gap_points", "gap_se", "verdict"]
PUBLISHED_COLUMNS = ["id", "quantity", "source", "published", "abteach", "precision",
                     "tolerance", "abs_deviation", "passed"]


def constant_check(value: float, *, promised: float = 0.05, kind: str = "equal",
                   runs: int = 10_000) -> ErrorRateCheck:
    """A synthetic check whose 'measurement' is a fixed number: exercises the verdict logic."""
    return ErrorRateCheck("synthetic", "none", "type I error = alpha", kind, promised, runs,
                          lambda n, gen: value)


# --- the error-rate registry ---------------------------------------------------------------


@pytest.mark.parametrize("check", ERROR_RATE_CHECKS, ids=lambda c: c.procedure)
def test_every_promised_error_rate_holds(check):
    """Each check, on a seed different from the appendix's, lands within 4.5 binomial standard
    errors of its promise, or on the safe side of a bound ("at most" / "at least")."""
    row = run_error_rate_check(check, rng=20_261_125)
    se = math.sqrt(check.promised * (1 - check.promised) / check.runs)
    gap = row["measured"] - check.promised
    if check.kind == "equal":
        assert abs(gap) <= BAND_WIDTH * se, row
        assert row["verdict"] == "within band"
    elif check.kind == "at most":
        assert gap <= BAND_WIDTH * se, row
        assert row["verdict"] in ("within band", "conservative")
    else:
        assert gap >= -BAND_WIDTH * se, row
        assert row["verdict"] in ("within band", "conservative")


@pytest.mark.slow
def test_whole_table_with_more_runs():
    """The full table with 1.25x the default runs (narrower bands) on another seed: no FAIL."""
    table = error_rate_checks(scale=1.25, rng=99)
    assert (table["verdict"] != "FAIL").all(), table[table["verdict"] == "FAIL"]
    assert (table["runs"] == [round(1.25 * c.runs) for c in ERROR_RATE_CHECKS]).all()


def band_points(check: ErrorRateCheck, runs: int) -> float:
    """Half-width of the band in percentage points, from its definition."""
    return 100 * BAND_WIDTH * math.sqrt(check.promised * (1 - check.promised) / runs)


COARSE = [c for c in ERROR_RATE_CHECKS if band_points(c, c.runs) > 1.0]


@pytest.mark.slow
@pytest.mark.parametrize("check", COARSE, ids=lambda c: c.procedure)
def test_coarse_checks_with_enough_runs_to_resolve_one_point(check):
    """The checks whose default band is wider than one point (the bootstrap rows are too slow
    for the default table) run here with the runs that narrow the band to one point: a size of
    6% or a coverage of 94% would fail."""
    runs = validation.runs_to_resolve(check.promised)
    row = run_error_rate_check(check, runs=runs, rng=2_012_1263)
    assert row["band_points"] <= 1.0
    assert row["verdict"] != "FAIL", row


def test_checks_that_matter_resolve_one_point_by_default():
    """A +-4.5 SE band with 1,000-2,000 runs lets a size of 8% or a coverage of 92% pass; the
    type I error, coverage and power checks of the tests a decision rests on run enough runs
    by default for a band of at most one percentage point."""
    core = {"ztest_proportions", "sample_size_proportions", "sample_size_means", "welch_ttest",
            "ratio_metric_test", "cuped_test", "assign_many, aa_test", "multiple_tests",
            "boundaries", "design_characteristics", "simulate_peeking", "msprt", "trend_test",
            "diluted_effect"}
    for check in ERROR_RATE_CHECKS:
        if check.function in core:
            assert band_points(check, check.runs) <= 1.0, check.procedure
    assert {c.function for c in COARSE} >= {"bootstrap_ci"}


def test_runs_to_resolve():
    """R = ceil(4.5^2 p (1 - p) / w^2): the smallest R whose band is at most w."""
    for promised, points in [(0.05, 1.0), (0.8, 1.0), (0.95, 0.5), (0.0005, 0.01)]:
        runs = validation.runs_to_resolve(promised, points)
        width = lambda r: 100 * 4.5 * math.sqrt(promised * (1 - promised) / r)  # noqa: E731
        assert width(runs) <= points * (1 + 1e-12)
        assert width(runs - 1) > points * (1 + 1e-12)
    assert validation.runs_to_resolve(0.05) == 9_619
    with pytest.raises(ValueError, match="promised must be in \\(0, 1\\), got 1.5"):
        validation.runs_to_resolve(1.5)


def test_registry_covers_the_promised_procedures():
    """The brief's list: every procedure with a promised rate has at least one check."""
    functions = " ".join(c.function for c in ERROR_RATE_CHECKS)
    for name in ("ztest_proportions", "sample_size_proportions", "sample_size_means",
                 "welch_ttest", "bootstrap_ci", "ratio_metric_test", "cuped_test",
                 "srm_false_alarm_rate", "bucket_uniformity", "aa_test", "multiple_tests",
                 "boundaries", "design_characteristics", "simulate_peeking", "msprt",
                 "trend_test"):
        assert name in functions, name
    procedures = " ".join(c.procedure for c in ERROR_RATE_CHECKS)
    for word in ("percentile", "BCa", "Bonferroni", "Holm", "Benjamini-Hochberg",
                 "O'Brien-Fleming", "Pocock", "log-normal"):
        assert word in procedures, word
    for check in ERROR_RATE_CHECKS:
        assert check.kind in validation.KINDS
        assert 0 < check.promised < 1
        assert check.runs >= 1000


def test_power_promises_are_the_designed_powers():
    """The power checks compare with the power of the rounded-up designed n, which is the
    requested 0.80 within the rounding (R power.prop.test 3840.847 -> 3841; pwr 63.77 -> 64)."""
    by_function = {c.function: c for c in ERROR_RATE_CHECKS}
    assert by_function["sample_size_proportions"].promised == pytest.approx(0.8, abs=2e-4)
    assert by_function["sample_size_means"].promised == pytest.approx(0.8014596, abs=1e-6)
    peek = next(c for c in ERROR_RATE_CHECKS if c.function == "simulate_peeking")
    assert round(peek.promised, 4) == 0.1934  # PK01, Armitage et al. (1969), K = 10


def test_table_structure():
    table = error_rate_checks(scale=0.05, rng=3)
    assert list(table.columns) == ERROR_COLUMNS
    assert len(table) == len(ERROR_RATE_CHECKS)
    assert table["procedure"].tolist() == [c.procedure for c in ERROR_RATE_CHECKS]
    numeric = table[["promised", "measured", "se", "band_points", "gap_points",
                     "gap_se"]].to_numpy(float)
    assert np.isfinite(numeric).all()
    assert ((table["measured"] >= 0) & (table["measured"] <= 1)).all()
    assert (table["runs"] == [max(100, round(0.05 * c.runs)) for c in ERROR_RATE_CHECKS]).all()
    # the columns are what they claim, recomputed here
    se = np.sqrt(table["promised"] * (1 - table["promised"]) / table["runs"])
    np.testing.assert_allclose(table["se"], se, rtol=1e-12)
    np.testing.assert_allclose(table["band_points"], 100 * 4.5 * se, rtol=1e-12)
    assert (table["runs_for_1_point"]
            == [validation.runs_to_resolve(c.promised) for c in ERROR_RATE_CHECKS]).all()
    gap = table["measured"] - table["promised"]
    np.testing.assert_allclose(table["gap_points"], 100 * gap, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(table["gap_se"], gap / se, rtol=1e-12, atol=1e-12)
    assert set(table["verdict"]) <= {"within band", "conservative", "FAIL"}


def test_same_seed_same_table_other_seed_other_table():
    cheap = [c for c in ERROR_RATE_CHECKS if c.runs >= 10_000][:6]
    first = error_rate_checks(scale=0.2, rng=11, checks=cheap)
    again = error_rate_checks(scale=0.2, rng=np.random.default_rng(11), checks=cheap)
    pd.testing.assert_frame_equal(first, again)
    other = error_rate_checks(scale=0.2, rng=12, checks=cheap)
    assert not np.array_equal(first["measured"], other["measured"])


def test_check_order_does_not_change_a_checks_stream():
    """Each check draws from its own child generator, in registry order: the same position
    gives the same numbers."""
    pair = list(ERROR_RATE_CHECKS[:2])
    alone = error_rate_checks(scale=0.1, rng=5, checks=pair[:1])
    both = error_rate_checks(scale=0.1, rng=5, checks=pair)
    assert alone["measured"].iloc[0] == both["measured"].iloc[0]


@pytest.mark.parametrize(
    ("kind", "gap_se", "verdict"),
    [("equal", 0.0, "within band"), ("equal", 4.4, "within band"), ("equal", 4.6, "FAIL"),
     ("equal", -4.6, "FAIL"), ("at most", -6.0, "conservative"), ("at most", 6.0, "FAIL"),
     ("at most", 4.4, "within band"), ("at least", 6.0, "conservative"),
     ("at least", -6.0, "FAIL")],
)
def test_verdict_band_of_four_and_a_half_standard_errors(kind, gap_se, verdict):
    """A measurement 4.6 SE from an equality promise fails: the test can fail."""
    runs, promised = 10_000, 0.05
    se = math.sqrt(promised * (1 - promised) / runs)
    row = run_error_rate_check(constant_check(promised + gap_se * se, kind=kind), rng=0)
    assert row["verdict"] == verdict
    assert row["gap_se"] == pytest.approx(gap_se, abs=1e-9)
    assert row["gap_points"] == pytest.approx(100 * gap_se * se, abs=1e-12)


def test_a_broken_procedure_is_caught():
    """A z-test with the wrong variance (sd halved) rejects far too often: FAIL."""

    def broken(runs, gen):
        z = gen.standard_normal(runs) * 2.0
        return float(np.mean(2 * stats.norm.sf(np.abs(z)) < 0.05))

    check = ErrorRateCheck("broken z-test", "none", "type I error = alpha", "equal", 0.05,
                           5_000, broken)
    assert run_error_rate_check(check, rng=1)["verdict"] == "FAIL"


def test_bh_fdr_check_against_scipy():
    """Independent implementation: scipy.stats.false_discovery_control on the same p-values
    gives the same false discovery proportion, and it is near q m0 / m = 0.0375."""
    effects = np.r_[np.zeros(15), np.full(5, 3.0)]
    p = abt.simulate_pvalues(effects, n_experiments=5_000, rng=8)
    adjusted = stats.false_discovery_control(p, axis=1)
    reject = adjusted <= 0.05
    false = (reject & (effects == 0)).sum(axis=1)
    fdp = false / np.maximum(reject.sum(axis=1), 1)
    bh = next(c for c in ERROR_RATE_CHECKS if "Benjamini" in c.procedure)
    measured = bh.measure(5_000, np.random.default_rng(8))
    assert measured == pytest.approx(fdp.mean(), abs=1e-12)
    assert abs(measured - 0.0375) < BAND_WIDTH * math.sqrt(0.0375 * 0.9625 / 5_000)


def test_bonferroni_fwer_matches_the_exact_value():
    """With 10 independent true nulls Bonferroni's FWER is exactly 1 - (1 - 0.005)^10 =
    0.04889, just below its promise 0.05; the simulation agrees within its band."""
    check = next(c for c in ERROR_RATE_CHECKS if c.procedure.startswith("Bonferroni"))
    exact = 1 - (1 - 0.05 / 10) ** 10
    row = run_error_rate_check(check, rng=4)
    assert abs(row["measured"] - exact) <= BAND_WIDTH * math.sqrt(exact * (1 - exact) / row["runs"])


# --- the published registry ----------------------------------------------------------------

PUBLISHED_IDS = {"SS03a", "SS03b", "SS04", "SS06a", "SS06b", "SS07", "HT01", "HT04", "SRM01",
                 "SRM02", "GS01", "GS02", "GS05", "PK01", "CU01", "MT01", "HA01", "HA02",
                 "Hillstrom"}


@pytest.mark.parametrize("check", PUBLISHED_CHECKS, ids=lambda c: f"{c.id}: {c.quantity}")
def test_every_published_value_matches_at_its_precision(check):
    """Sources: each row's ``source`` field (published_numbers.md)."""
    row = published_checks([check]).iloc[0]
    assert row["passed"], row.to_dict()
    assert row["abs_deviation"] <= row["tolerance"] * (1 + 1e-9)


def test_published_registry_covers_every_id():
    """Every ID of published_numbers.md, with all its figures."""
    ids = [c.id for c in PUBLISHED_CHECKS]
    assert set(ids) == PUBLISHED_IDS
    counts = pd.Series(ids).value_counts()
    # GS01: K = 2..10; GS02: K = 2..10 and the 5 boundaries of K = 5; GS05: 2 + 5 boundaries;
    # PK01: the exact table (6 values); Hillstrom: 3 visit + 3 conversion rates + t + p
    expected = {"GS01": 9, "GS02": 14, "GS05": 7, "PK01": 6, "Hillstrom": 8, "HA01": 4,
                "HA02": 4, "MT01": 4, "HT01": 5, "HT04": 3, "SS06b": 3, "SRM01": 2}
    for key, count in expected.items():
        assert counts[key] == count, key
    for check in PUBLISHED_CHECKS:
        assert check.source and check.quantity


def test_published_table_structure():
    table = published_checks()
    assert list(table.columns) == PUBLISHED_COLUMNS
    assert len(table) == len(PUBLISHED_CHECKS)
    assert table["passed"].dtype == bool and table["passed"].all()
    assert np.isfinite(table[["published", "abteach", "tolerance", "abs_deviation"]]
                       .to_numpy(float)).all()
    np.testing.assert_allclose(table["abs_deviation"],
                               (table["abteach"] - table["published"]).abs(), rtol=1e-15)


@pytest.mark.parametrize(
    ("published", "precision", "tolerance"),
    [(0.740, ("decimals", 3), 5e-4), (76.7, ("decimals", 1), 0.05),
     (1.8e-6, ("significant", 2), 5e-8), (2.54e-10, ("significant", 3), 5e-13),
     (1.1632e-07, ("significant", 5), 5e-12), (4, ("exact", 0), 0.0),
     (3840.847, ("significant", 7), 5e-4)],
)
def test_tolerance_is_half_a_unit_of_the_last_printed_digit(published, precision, tolerance):
    assert validation.published._tolerance(published, precision) == pytest.approx(tolerance, rel=1e-12)


def test_a_wrong_published_value_fails():
    """A figure off by one unit of its last printed digit does not pass: the test can fail."""
    good = PublishedCheck("SS04", "n", "R", 3840.847, ("decimals", 3),
                          lambda: abt.sample_size_proportions(0.10, 0.12))
    bad = PublishedCheck("SS04", "n", "R", 3840.848, ("decimals", 3),
                         lambda: abt.sample_size_proportions(0.10, 0.12))
    count = PublishedCheck("MT01", "rejections", "BH", 5, ("exact", 0), lambda: 4)
    table = published_checks([good, bad, count])
    assert table["passed"].tolist() == [True, False, False]


def test_gs05_other_convention_would_fail():
    """Putting the whole 0.05 into the one-sided formula gives 4.383 at look 1 (note on GS05):
    the registry's value is the per-side convention, so the other number fails."""
    wrong = PublishedCheck("GS05", "look 1", "x", 4.383, ("decimals", 3),
                           lambda: abt.boundaries(5, method="ld-obf").critical_values[0])
    assert not published_checks([wrong])["passed"].iloc[0]


# --- the data file against the course's list of published numbers -------------------------

#: The list beside the repository (``shared/``): beside a clone, or beside a worktree's folder.
REFERENCE_CANDIDATES = [
    base / "shared" / "references" / "published_numbers.md" for base in (ROOT.parent, ROOT.parent.parent)
]
#: A number as printed: hexadecimal, thousands separators, decimals, exponent; not part of a
#: word ("g1", "v2", "4th") and not a list separator.
NUMBER = re.compile(
    r"(?<![\w.])(0x[0-9A-Fa-f]+|-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:e-?\d+)?)(?![\w])"
)


def number(text: str) -> float:
    return float(int(text, 16)) if text.startswith("0x") else float(text.replace(",", ""))


def reference_text() -> str:
    for path in REFERENCE_CANDIDATES:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    message = ("the course's list of published numbers is not beside the repository: looked for "
               + ", ".join(str(p) for p in REFERENCE_CANDIDATES))
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def plain(text: str) -> str:
    """Markdown without code and emphasis marks (not the * of "G*Power"), whitespace collapsed."""
    return " ".join(re.sub(r"(?<!\w)\*|\*(?!\w)", "", text.replace("`", "")).split())


def reference_blocks(text: str) -> dict[str, dict]:
    """Per id of the markdown: its table row ('text'), the 'published' cell when the table has
    one, and the notes that speak of it (the PK01 exact values, the GS05 note). The Hillstrom
    section is the block of the id "Hillstrom"."""
    blocks: dict[str, dict] = {}
    header: list[str] = []
    paragraphs = text.split("\n\n")
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or set(cells[0]) <= {"-"}:
            continue
        if cells[0] == "id":
            header = cells
        elif re.fullmatch(r"[A-Z]+\d+[a-z]?", cells[0]):
            published = cells[header.index("published")] if "published" in header else None
            blocks[cells[0]] = {"text": plain(line), "published": published}
    for paragraph in paragraphs:
        if paragraph.startswith("Exact values by recursive integration"):
            blocks["PK01"]["text"] += " " + plain(paragraph)
        if paragraph.startswith("Note on GS05") or paragraph.startswith("Assert GS05"):
            blocks["GS05"]["text"] += " " + plain(paragraph)
    section = text[text.index("## A real experiment"):]
    blocks["Hillstrom"] = {"text": plain(section), "published": None}
    return blocks


def data_file() -> dict:
    path = resources.files("abteach").joinpath("data/published_numbers.json")
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_data_file_is_the_registry():
    """PUBLISHED_CHECKS and published_numbers() are the rows of the file, in its order."""
    figures = data_file()["figures"]
    table = abt.published_numbers()
    assert len(figures) == len(PUBLISHED_CHECKS) == len(table)
    for figure, check, (_, row) in zip(figures, PUBLISHED_CHECKS, table.iterrows()):
        assert (check.id, check.quantity, check.source) == (figure["id"], figure["quantity"],
                                                            figure["source"])
        assert row["printed"] == figure["published"] and row["precision"] == figure["precision"]
        assert check.published == row["published"] == number(figure["published"])


def test_every_figure_of_the_file_is_in_the_published_list():
    """Each row of abteach/data/published_numbers.json against shared/references/published_numbers.md:
    its id is listed there, the value as printed appears in that id's row (or its note), and the
    names, tools and years of its source are there too. CU01 is the one derived figure: the
    source says a correlation of 0.71 "halves" the variance, the file holds 1 - 0.71^2."""
    blocks = reference_blocks(reference_text())
    for figure in data_file()["figures"]:
        where = f"{figure['id']}: {figure['quantity']}"
        assert figure["id"] in blocks, where
        block = blocks[figure["id"]]["text"]
        printed = [number(n) for n in NUMBER.findall(block)]
        if figure["id"] == "CU01":
            assert "0.71" in block and "halves the variance" in block, where
            assert round(1 - 0.71**2, 4) == number(figure["published"]), where
        else:
            assert number(figure["published"]) in printed, where
        for word in figure["source"].split():
            token = word.strip(',;()"\'')
            if re.search(r"[A-Z0-9*:]|\w\.\w", token):
                assert token in block, (where, token)


def test_every_published_figure_of_the_list_is_in_the_file():
    """The other way round: every id of the list is in the file, and every number of a
    'published' cell is one of that id's figures (or a number of its quantities, such as the
    df of a critical t or the K of a boundary)."""
    blocks = reference_blocks(reference_text())
    figures = data_file()["figures"]
    assert {f["id"] for f in figures} == set(blocks)
    for key, block in blocks.items():
        if block["published"] is None:
            continue
        mine = [f for f in figures if f["id"] == key]
        known = {number(f["published"]) for f in mine}
        known |= {number(n) for f in mine for n in NUMBER.findall(f["quantity"])}
        for text in NUMBER.findall(block["published"]):
            assert number(text) in known, (key, text)


def test_precision_is_at_least_the_lists_agreement():
    """Where the list says to which precision a figure agrees ("3 decimals", "Assert GS05 to 3
    decimals"), the file asserts it at least that tightly."""
    text = reference_text()
    blocks = reference_blocks(text)
    wanted = {}
    for key, block in blocks.items():
        found = re.findall(r"\| (\d+) decimals? \|", block["text"] + " |")
        if found:
            wanted[key] = int(found[-1])
    for ids, digits in re.findall(r"Assert ((?:[A-Z]+\d+(?: and )?)+) to (?:the )?(\d+) ", text):
        for key in ids.split(" and "):
            wanted[key] = int(digits)
    assert {"SS03a", "SS04", "SS06b", "GS01", "GS02", "GS05"} <= set(wanted)
    table = abt.published_numbers()
    for key, digits in wanted.items():
        tolerances = table.loc[table["id"] == key, "tolerance"]
        assert (tolerances <= 0.5 * 10.0**-digits * (1 + 1e-9)).all(), (key, digits)


def test_data_sets_of_the_file_are_the_lists():
    """The sleep data, the smokers, the 15 p-values of Benjamini & Hochberg and the Hillstrom
    aggregates of the file are the ones printed in the list."""
    blocks = reference_blocks(reference_text())
    data = data_file()["datasets"]

    def numbers_of(key):
        return [number(n) for n in NUMBER.findall(blocks[key]["text"])]

    def contains(haystack, needle):
        return any(haystack[i:i + len(needle)] == needle for i in range(len(haystack)))

    assert contains(numbers_of("HT01"), data["sleep"]["group1"])
    assert contains(numbers_of("HT01"), data["sleep"]["group2"])
    assert contains(numbers_of("HT04"), data["smokers"]["smokers"])
    assert contains(numbers_of("HT04"), data["smokers"]["patients"])
    assert contains(numbers_of("MT01"), data["bh"]["pvalues"])
    hillstrom = data["hillstrom"]
    section = reference_text()
    for i, arm in enumerate(hillstrom["arm"]):
        row = next(line for line in section.splitlines() if line.startswith(f"| {arm} |"))
        printed = [number(n) for n in NUMBER.findall(row)]
        assert printed == [hillstrom[k][i] for k in ("customers", "visitors", "purchasers",
                                                      "spend", "spend_sd")], arm


def test_cross_check_can_fail():
    """A figure whose printed value is off by one digit, or whose source names another book,
    is caught by the same rules."""
    blocks = reference_blocks(reference_text())
    printed = [number(n) for n in NUMBER.findall(blocks["SS04"]["text"])]
    assert 3840.847 in printed and 3840.848 not in printed
    assert "Jennison" not in blocks["SS04"]["text"]


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [({"scale": 0}, ValueError, "scale"), ({"scale": -1.0}, ValueError, "scale"),
     ({"scale": float("nan")}, ValueError, "scale"), ({"scale": "1"}, TypeError, "scale"),
     ({"scale": [1.0, 2.0]}, ValueError, "scale"), ({"scale": 1.0, "rng": None}, TypeError, "rng"),
     ({"scale": 1.0, "rng": -3}, TypeError, "rng"), ({"checks": []}, ValueError, "checks"),
     ({"checks": [None]}, TypeError, r"checks must hold ErrorRateCheck records, got None \(at index 0\)"),
     ({"checks": "ztest"}, TypeError, "checks must be a sequence"),
     ({"checks": 5}, TypeError, "checks must be a sequence"),
     ({"checks": ERROR_RATE_CHECKS[0]}, TypeError, "checks must be a sequence"),
     ({"scale": 1e6}, ValueError, "scale must be at most")],
)
def test_error_rate_checks_bad_input(kwargs, error, name):
    kwargs = {"rng": 1, **kwargs}
    with pytest.raises(error, match=name):
        error_rate_checks(**kwargs)


def test_run_error_rate_check_bad_input():
    check = constant_check(0.05)
    with pytest.raises(ValueError, match="runs"):
        run_error_rate_check(check, runs=10, rng=1)
    with pytest.raises(TypeError, match="runs"):
        run_error_rate_check(check, runs=1000.5, rng=1)
    with pytest.raises(TypeError, match="check"):
        run_error_rate_check("ztest", rng=1)
    with pytest.raises(TypeError, match="rng"):
        run_error_rate_check(check, rng="seed")


def test_more_runs_than_the_default_are_simulated_in_batches():
    """runs = 2.5 x check.runs: the measure is called on batches of check.runs (memory stays
    that of one default run) and the rate is the run-weighted mean of the batches."""
    sizes = []

    def measure(runs, gen):
        sizes.append(runs)
        return 0.04 if len(sizes) < 3 else 0.10

    check = ErrorRateCheck("batched", "none", "type I error = alpha", "equal", 0.05, 1000,
                           measure)
    row = run_error_rate_check(check, runs=2500, rng=1)
    assert sizes == [1000, 1000, 500]
    assert row["measured"] == pytest.approx((2000 * 0.04 + 500 * 0.10) / 2500, rel=1e-15)
    assert row["runs"] == 2500


def test_run_error_rate_check_bounds_and_refuses_bad_measures():
    check = constant_check(0.05, runs=1000)
    with pytest.raises(ValueError, match="runs must be <= 1,000,000"):
        run_error_rate_check(check, runs=10**12, rng=1)
    for bad in (float("nan"), 1.5, -0.1):
        broken = ErrorRateCheck("broken", "none", "p", "equal", 0.05, 100, lambda n, g, b=bad: b)
        with pytest.raises(ValueError, match="'broken' must return a rate in"):
            run_error_rate_check(broken, rng=1)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [({"kind": "about"}, ValueError, "kind must be one of"),
     ({"promised": 1.0}, ValueError, r"promised must be in \(0, 1\)"),
     ({"promised": "0.05"}, TypeError, "promised"),
     ({"runs": 10}, ValueError, "runs must be >= 100"),
     ({"runs": 10**9}, ValueError, "runs must be <= 1,000,000"),
     ({"runs": 100.0}, TypeError, "runs must be an integer"),
     ({"measure": None}, TypeError, "measure must be callable"),
     ({"procedure": None}, TypeError, "procedure must be a string")],
)
def test_error_rate_check_refuses_bad_fields(change, error, message):
    fields = {"procedure": "p", "function": "f", "promise": "type I error = alpha",
              "kind": "equal", "promised": 0.05, "runs": 1000, "measure": lambda n, g: 0.05}
    with pytest.raises(error, match=message):
        ErrorRateCheck(**{**fields, **change})


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [({"precision": ("digits", 3)}, ValueError, "precision must read"),
     ({"precision": "3 decimals"}, ValueError, "precision must read"),
     ({"published": float("nan")}, ValueError, "published must be finite"),
     ({"published": "1.0"}, TypeError, "published"),
     ({"compute": 1.0}, TypeError, "compute must be callable"),
     ({"id": 5}, TypeError, "id must be a string")],
)
def test_published_check_refuses_bad_fields(change, error, message):
    fields = {"id": "X", "quantity": "q", "source": "s", "published": 1.0,
              "precision": ("decimals", 1), "compute": lambda: 1.0}
    with pytest.raises(error, match=message):
        PublishedCheck(**{**fields, **change})


def test_published_numbers_table():
    """The file as a table: what a chapter shows beside its own computation."""
    table = abt.published_numbers()
    assert list(table.columns) == ["id", "quantity", "inputs", "source", "printed", "published",
                                   "precision", "tolerance"]
    assert table["printed"].map(type).eq(str).all()
    hashes = table[table["id"] == "HA01"]
    assert hashes["printed"].tolist() == ["0x811C9DC5", "0xE40C292C", "0x4D2505CA", "0xBF9CF968"]
    assert hashes["published"].tolist() == [0x811C9DC5, 0xE40C292C, 0x4D2505CA, 0xBF9CF968]
    checked = published_checks()
    assert (checked[["id", "quantity", "source", "published", "precision", "tolerance"]]
            .equals(table[["id", "quantity", "source", "published", "precision", "tolerance"]]))


def test_published_checks_bad_input():
    with pytest.raises(ValueError, match="checks"):
        published_checks([])
    with pytest.raises(TypeError, match="checks"):
        published_checks(["SS04"])
    with pytest.raises(TypeError, match=r"checks must hold PublishedCheck records, got None"):
        published_checks([None])
    with pytest.raises(TypeError, match="checks must be a sequence"):
        published_checks(PUBLISHED_CHECKS[0])
    broken = PublishedCheck("X", "q", "s", 1.0, ("decimals", 1), lambda: float("nan"))
    with pytest.raises(ValueError, match="X"):
        published_checks([broken])


@settings(max_examples=60, deadline=None)
@given(scale=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
                       st.text(max_size=3), st.none(), st.booleans()))
def test_fuzz_scale_only_raises_named_errors_or_gives_a_finite_table(scale):
    try:
        table = error_rate_checks(scale=scale, rng=1, checks=[constant_check(0.05)])
    except (ValueError, TypeError) as exc:
        assert "scale" in str(exc)
    else:
        assert np.isfinite(table[["measured", "se", "gap_se"]].to_numpy(float)).all()
        assert table["verdict"].iloc[0] == "within band"


def test_public_names_exported():
    for name in ("error_rate_checks", "published_checks", "published_numbers",
                 "run_error_rate_check", "ERROR_RATE_CHECKS", "PUBLISHED_CHECKS",
                 "ErrorRateCheck", "PublishedCheck"):
        assert getattr(abt, name) is getattr(validation, name)
