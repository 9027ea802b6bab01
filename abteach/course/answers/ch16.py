"""Answer key of chapter 16, When units interact (``solutions/16_interference.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint. Class editions draw their own inputs
(:func:`draw_inputs`, see :mod:`abteach.course.editions`): the stores (16.1, 16.2), the e-mail
test (16.3), the cells of the interaction test (16.4) and the length of the switchback (16.6,
whose answer is False in every edition: a test on hours never holds its level). 16.5 is multiple
choice and cannot vary (``fixed``).
"""

from __future__ import annotations

import math

from scipy import stats

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number
from abteach.course.editions import Substitution, percent

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 16.1 and 16.2: customers per store, ICC; detect delta sd at 80% power.
    "16.1": {"store_size": 40, "icc": 0.02, "delta": 0.1},
    # 16.3: an e-mail test, mean revenue per user and the share who opened.
    "16.3": {"control": 2.00, "treatment": 2.15, "opened": 0.25},
    # 16.4: two concurrent experiments, users per cell and the interaction to detect (in sd).
    "16.4": {"cell_users": 2_000, "interaction": 0.1},
    # 16.6: days of the switchback (24 hours each).
    "16.6": {"days": 28},
}
#: The public edition's stores under the names the chapter's tests use.
STORE_SIZE, STORE_ICC, STORE_DELTA = (PUBLIC_INPUTS["16.1"][k] for k in ("store_size", "icc", "delta"))


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    public = PUBLIC_INPUTS.get(group)
    if group == "16.1":
        while True:  # the design effect and the count of stores both differ from the public ones
            stores = {"store_size": int(rng.choice([20, 25, 30, 50, 60, 80])),
                      "icc": float(rng.choice([0.01, 0.015, 0.03, 0.04, 0.05])),
                      "delta": float(rng.choice([0.1, 0.15, 0.2]))}
            if (_deff(stores) != _deff(public)
                    and _design(stores).clusters != _design(public).clusters):
                return stores
    if group == "16.3":
        while True:
            control = int(rng.integers(30, 61)) * 0.05
            mail = {"control": round(control, 2), "treatment": round(control + int(rng.integers(1, 7)) * 0.05, 2),
                    "opened": float(rng.choice([0.15, 0.2, 0.3, 0.35, 0.4]))}
            if not math.isclose(_cace(mail), _cace(public), rel_tol=1e-3):
                return mail
    if group == "16.4":
        while True:
            cells = {"cell_users": int(rng.choice([1_000, 1_500, 2_500, 3_000, 4_000, 5_000])),
                     "interaction": float(rng.choice([0.05, 0.08, 0.1, 0.12, 0.15]))}
            # a power between 30% and 95%, not the public one
            if 0.3 < _power(cells) < 0.95 and not math.isclose(_power(cells), _power(public), rel_tol=1e-2):
                return cells
    if group == "16.6":
        return {"days": int(rng.choice([d for d in range(14, 43) if d != 28]))}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _deff(stores) -> float:
    return float(abt.design_effect(stores["store_size"], stores["icc"]))


def _design(stores):
    return abt.cluster_design(stores["delta"], 1.0, stores["store_size"], stores["icc"])


def _z_clusters(stores, deff: float) -> float:
    """Clusters per arm by the normal formula n * deff / m, rounded up."""
    n = 2 * (stats.norm.isf(0.025) + stats.norm.isf(0.2)) ** 2 / stores["delta"] ** 2
    return float(math.ceil(n * deff / stores["store_size"]))


def _cace(mail) -> float:
    return (mail["treatment"] - mail["control"]) / mail["opened"]


def _power(cells) -> float:
    return float(abt.interaction_power(cells["interaction"], 1.0, cells["cell_users"]))


def _mail_text(i) -> str:
    m = i["16.3"]
    return (f"week: {m['control']:.2f} in control (no e-mail), {m['treatment']:.2f} in the treatment arm, "
            f"where {percent(m['opened'])} of the users opened")


SUBSTITUTIONS = (
    Substitution("contributes about 40 customers",
                 lambda i: f"contributes about {i['16.1']['store_size']} customers"),
    Substitution("within a store is 0.02.", lambda i: f"within a store is {i['16.1']['icc']:g}."),
    Substitution("(40 customers, ICC 0.02)",
                 lambda i: f"({i['16.1']['store_size']} customers, ICC {i['16.1']['icc']:g})"),
    Substitution("detect a change of 0.1 standard deviations",
                 lambda i: f"detect a change of {i['16.1']['delta']:g} standard deviations"),
    Substitution("week: 2.00 in control (no e-mail), 2.15 in the treatment arm, where 25% of the users opened",
                 _mail_text),
    Substitution("with 2,000 users in", lambda i: f"with {i['16.4']['cell_users']:,} users in"),
    Substitution("for an interaction of 0.1?", lambda i: f"for an interaction of {i['16.4']['interaction']:g}?"),
    Substitution("for 28 days.", lambda i: f"for {i['16.6']['days']} days."),
    Substitution("on the 672\nhourly", lambda i: f"on the {24 * i['16.6']['days']}\nhourly"),
)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    stores, mail, cells = inputs["16.1"], inputs["16.3"], inputs["16.4"]
    m, icc, delta = stores["store_size"], stores["icc"], stores["delta"]
    itt, opened = mail["treatment"] - mail["control"], mail["opened"]
    n, gamma = cells["cell_users"], cells["interaction"]
    return (
        Exercise(
            "16.1",
            "deff",
            Number(
                lambda: _deff(stores),
                rtol=1e-3,
                hint=f"DE = 1 + (m - 1) ICC with m = {m} customers per store; or "
                f"abt.design_effect({m}, {icc:g}).",
                mistakes=[
                    (1 + m * icc, "Close: that is 1 + m ICC. A customer is not "
                     "correlated with herself twice: the formula has m - 1 other customers."),
                    (m * icc, "That is m ICC alone; the design effect is a "
                     "variance ratio that starts at 1 (no clustering) and adds (m - 1) ICC."),
                ],
            ),
        ),
        Exercise(
            "16.2",
            "stores_per_arm",
            Number(
                lambda: float(_design(stores).clusters),
                rtol=1e-9,
                hint="The t-test on store means has 2K - 2 degrees of freedom; K is the smallest "
                f"number of stores per arm with power >= 0.8: abt.cluster_design({delta:g}, 1.0, {m}, "
                f"{icc:g}).clusters.",
                mistakes=[
                    (lambda: _z_clusters(stores, 1.0), "That ignores the clustering: it divides the "
                     f"individually randomized n by {m}. Multiply by the design effect first."),
                    (lambda: _z_clusters(stores, _deff(stores)),
                     "That is the normal-approximation count n x DE / m. The analysis is a "
                     "t-test on store means with few degrees of freedom, which needs a little "
                     "more: use cluster_design (about one store more per arm)."),
                ],
            ),
        ),
        Exercise(
            "16.3",
            "cace",
            Number(
                _cace(mail),
                rtol=1e-3,
                hint="Wald estimator: CACE = ITT / (share opening in treatment - share opening in "
                "control); nobody in control can open an e-mail that was never sent.",
                mistakes=[
                    (itt, "That is the intention-to-treat effect, "
                     "the effect of sending. The effect of opening, on the users who open, is "
                     "larger: divide by the share who opened."),
                    (itt * opened, "Multiplying dilutes the "
                     "effect further; the ITT is already the complier effect diluted by the "
                     f"{percent(opened)} who open, so divide by {opened:g}."),
                ],
            ),
        ),
        Exercise(
            "16.4",
            "power_interaction",
            Number(
                lambda: _power(cells),
                rtol=2e-3,
                hint="SE of the interaction contrast = sqrt(4 sd^2 / n) = 2 sd / sqrt(n); power = "
                "Phi(gamma / SE - 1.96) + Phi(-gamma / SE - 1.96); or "
                f"abt.interaction_power({gamma:g}, 1.0, {n}).",
                mistakes=[
                    (lambda: float(abt.power_means(gamma, 1.0, 2 * n)),
                     f"That is the power for a MAIN effect of {gamma:g} (2 cells, {2 * n:,} users per arm). "
                     "The interaction contrast combines all four cells with signs, so its "
                     "standard error is twice as large."),
                    (lambda: float(abt.power_means(gamma, 1.0, n)),
                     f"That compares two cells of {n:,} users; the interaction contrast uses all "
                     "four cells and has the standard error 2 sd / sqrt(n)."),
                ],
            ),
        ),
        Exercise(
            "16.5",
            "estimand",
            Choice(
                expected="b",
                options=("a", "b", "c"),
                hints={
                    "a": "The ratio of sums weighs every user by her page views: it answers 'what "
                    "share of all page views is clicked?', dominated by heavy users.",
                    "c": "They are different estimands and can even move in opposite directions "
                    "(section 16.6): pick the one that matches the question.",
                },
            ),
            fixed=True,
        ),
        Exercise(
            "16.6",
            "hours_independent",
            Boolean(
                expected=False,
                hint="Randomization was by day, so the day is the independent unit. The 24 hours "
                "of a day share its noise (autocorrelation), so a test on hours understates "
                "the standard error; section 16.3 measured a type I error near 44% for such a "
                "slot-level test. Compare the day means (with a burn-in after each switch).",
            ),
        ),
    )


EXERCISES = exercises(PUBLIC_INPUTS)
