"""Chapter 2 text and outputs: the numbers sections 2.4, 2.8 and 2.9 print, recomputed here
from scipy closed forms, simulation bands and published values (never copied from abteach)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from nbformat import read
from scipy import optimize, stats

from conftest import ROOT

BOOK = ROOT / "book" / "02_sample_size.ipynb"
Z975, Z95, Z80, Z90 = (stats.norm.ppf(q) for q in (0.975, 0.95, 0.80, 0.90))


@pytest.fixture(scope="module")
def notebook():
    with open(BOOK, encoding="utf-8") as handle:
        return read(handle, as_version=4)


def markdown(nb) -> str:
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return " ".join(text.split())


def output_of(nb, marker: str) -> str:
    """The printed text of the one code cell whose source contains ``marker``."""
    hits = [c for c in nb.cells if c.cell_type == "code" and marker in c.source]
    assert len(hits) == 1, marker
    return "".join(o.get("text", "") for o in hits[0].outputs)


# --- section 2.4: the arcsine variance (issue 13, error 5) -----------------------------------


def _n_var(transform, n=2_000, p=0.10, runs=200_000, seed=5) -> float:
    p_hat = np.random.default_rng(seed).binomial(n, p, size=runs) / n
    return n * np.var(transform(p_hat))


def test_the_variance_the_text_states_for_the_2_arcsin_scale_is_right(notebook):
    """The text once said 1/(4n) on the scale 2 arcsin sqrt(p); simulation gives 1/n there."""
    text = markdown(notebook)
    found = re.search(r"on the scale \$2\\arcsin\\sqrt p\$, where the variance of an estimated "
                      r"rate is (?:about )?\$1/(\(?\d*)?n\)?\$", text)
    assert found, "the arcsine sentence of section 2.4 is missing"
    stated = found.group(0)
    factor = 4 if "1/(4n)" in stated else 1
    simulated = _n_var(lambda p: 2 * np.arcsin(np.sqrt(p)))
    assert simulated == pytest.approx(1 / factor, rel=0.02)
    assert "on the scale $\\arcsin\\sqrt p$, without the factor 2, it is $1/(4n)$" in text
    assert _n_var(lambda p: np.arcsin(np.sqrt(p))) == pytest.approx(0.25, rel=0.02)


def test_arcsine_cell_prints_variances_near_the_formulas(notebook):
    rows = [line.split() for line in output_of(notebook, "arcsine_rng").splitlines()[1:4]]
    for p, on_2x, on_1x in rows:
        assert float(on_2x) == pytest.approx(1.0, abs=0.03), p  # 1 + O(1/(n p q))
        assert float(on_1x) == pytest.approx(0.25, abs=0.008), p


# --- section 2.8: the ship rule ----------------------------------------------------------------


def _pooled_n(p1=0.10, p2=0.12) -> float:
    p_bar = (p1 + p2) / 2
    s0, s1 = math.sqrt(2 * p_bar * (1 - p_bar)), math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return ((Z975 * s0 + Z80 * s1) / (p2 - p1)) ** 2


def test_ship_simulation_shares_are_within_the_band_of_the_promises(notebook):
    out = output_of(notebook, "ship_rng")
    n = math.ceil(_pooled_n())
    assert f"n = {n:,} per arm" in out
    simulated = [float(x) for x in re.findall(r"simulated (\d\.\d{3})", out)]
    band = 4.5 * math.sqrt(0.25 / 200_000)
    assert abs(simulated[0] - 0.8) < band and abs(simulated[1] - 0.5) < band
    assert "power_ship_rule 0.500" in out


def test_ship_sizes_table_matches_closed_forms(notebook):
    out = output_of(notebook, "n_bar = (z_b * s1)")
    s0, s1 = math.sqrt(2 * 0.11 * 0.89), math.sqrt(0.09 + 0.12 * 0.88)
    n_test = ((Z975 * s0 + Z80 * s1) / 0.02) ** 2
    for line, delta in zip(out.splitlines()[1:6], (0.0, 0.005, 0.01, 0.015, 0.018)):
        n_bar = (Z80 * s1 / (0.02 - delta)) ** 2
        cells = line.split()
        assert cells[0] == f"{100 * delta:.1f}"
        assert cells[1:] == [f"{n_test:,.0f}", f"{n_bar:,.0f}", f"{max(n_test, n_bar):,.0f}",
                             f"{max(n_test, n_bar):,.0f}"]


def test_plan_ships_80_percent_near_1_3_mde(notebook):
    n = math.ceil(_pooled_n())

    def p_ship(e):  # the estimate must clear delta = 0.02 (above z SE0 at this n)
        se1 = math.sqrt((0.09 + (0.10 + e) * (0.90 - e)) / n)
        return stats.norm.cdf((e - 0.02) / se1) - 0.8

    effect = optimize.brentq(p_ship, 0.02, 0.04)
    out = output_of(notebook, "effect_80 = optimize")
    assert f"{100 * effect:.2f} pp = {effect / 0.02:.2f} x MDE" in out
    text = markdown(notebook)
    assert "near 1.3 × MDE" in text
    assert f"{Z975 / (Z975 + Z80):.0%}" == "70%" and "about 70% of the hoped-for" in text


# --- section 2.9: non-inferiority and equivalence ---------------------------------------------


def _ni_n(margin, effect=0.0, p1=0.10) -> float:
    p2 = p1 + effect
    return (Z95 + Z80) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (effect + margin) ** 2


def test_guardrail_sizes(notebook):
    out = output_of(notebook, "n_guard = abt.sample_size_noninferiority")
    n = _ni_n(0.005)
    assert f"by hand: n = {n:,.1f} per arm; abteach: n = {n:,.1f} per arm" in out
    assert "type I error at the margin: 0.0500" in out
    rows = out.splitlines()[3:7]
    for line, relative in zip(rows, (0.01, 0.02, 0.05, 0.10)):
        m = relative * 0.10
        assert line.split()[2:] == [f"{_ni_n(m):,.0f}", f"{_ni_n(m, -0.0005):,.0f}"]
    text = markdown(notebook)
    assert "about 44,500 users per arm" in text and round(n, -2) == 44_500
    assert "more than eleven times the 3,841" in text and 11 < n / 3841 < 12
    assert "a 1% margin needs over a million" in text and _ni_n(0.001) > 1e6


def test_chow_noninferiority_examples(notebook):
    """Chow, Shao & Wang (2008): section 3.2 (sd 0.10, margin 0.05 -> 50 per group) and
    section 4.2 (0.85 vs 0.65, margin 0.10 -> 25 per group)."""
    out = output_of(notebook, "chow = [")
    means = (Z95 + Z80) ** 2 * 2 * 0.01 / 0.05**2
    rates = (Z95 + Z80) ** 2 * (0.85 * 0.15 + 0.65 * 0.35) / 0.30**2
    assert f"published  50, abteach {means:6.2f} ->  50" in out and math.ceil(means) == 50
    assert f"published  25, abteach {rates:6.2f} ->  25" in out and math.ceil(rates) == 25


def _tost_power(effect, n, margin, sd):
    se = sd * math.sqrt(2 / n)
    return (stats.norm.cdf((margin - effect) / se - Z95)
            + stats.norm.cdf((margin + effect) / se - Z95) - 1)


def test_equivalence_numbers(notebook):
    out = output_of(notebook, "z_half_b")
    n0 = (Z95 + Z90) ** 2 * 2 * 0.09 / 0.005**2
    assert f"by hand {n0:,.1f}, abteach {n0:,.1f} per arm" in out
    chow = (1.64 + 1.28) ** 2 * 2 * 0.01 / 0.04**2
    assert f"Example 3.2.4: {chow:.2f} -> 107 per group" in out  # Chow et al. print 107
    assert f"TOST power there {_tost_power(0.01, 107, 0.05, 0.10):.3f}" in out
    exact = optimize.brentq(lambda n: _tost_power(0.01, n, 0.05, 0.10) - 0.8, 10, 200)
    assert f"exact n for 80% power: {exact:.2f} -> {math.ceil(exact)} per group" in out
