"""Answer key of chapter 16, When units interact (``solutions/16_interference.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint.
"""

from __future__ import annotations

import math

from scipy import stats

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number

# 16.1 and 16.2: stores of 40 customers, ICC 0.02; detect 0.1 sd at 80% power.
STORE_SIZE, STORE_ICC, STORE_DELTA = 40, 0.02, 0.1

# 16.3: an e-mail test, mean revenue per user and the share who opened.
REVENUE_CONTROL, REVENUE_TREATMENT, OPENED = 2.00, 2.15, 0.25

# 16.4: two concurrent experiments, users per cell and the interaction to detect (in sd).
CELL_USERS, INTERACTION = 2_000, 0.1


def _design():
    return abt.cluster_design(STORE_DELTA, 1.0, STORE_SIZE, STORE_ICC)


def _z_clusters(deff: float) -> float:
    """Clusters per arm by the normal formula n * deff / m, rounded up."""
    n = 2 * (stats.norm.isf(0.025) + stats.norm.isf(0.2)) ** 2 / STORE_DELTA**2
    return float(math.ceil(n * deff / STORE_SIZE))


EXERCISES = (
    Exercise(
        "16.1",
        "deff",
        Number(
            lambda: float(abt.design_effect(STORE_SIZE, STORE_ICC)),
            rtol=1e-3,
            hint="DE = 1 + (m - 1) ICC with m = 40 customers per store; or "
            "abt.design_effect(40, 0.02).",
            mistakes=[
                (1 + STORE_SIZE * STORE_ICC, "Close: that is 1 + m ICC. A customer is not "
                 "correlated with herself twice: the formula has m - 1 other customers."),
                (STORE_SIZE * STORE_ICC, "That is m ICC alone; the design effect is a "
                 "variance ratio that starts at 1 (no clustering) and adds (m - 1) ICC."),
            ],
        ),
    ),
    Exercise(
        "16.2",
        "stores_per_arm",
        Number(
            lambda: float(_design().clusters),
            rtol=1e-9,
            hint="The t-test on store means has 2K - 2 degrees of freedom; K is the smallest "
            "number of stores per arm with power >= 0.8: abt.cluster_design(0.1, 1.0, 40, "
            "0.02).clusters.",
            mistakes=[
                (lambda: _z_clusters(1.0), "That ignores the clustering: it divides the "
                 "individually randomized n by 40. Multiply by the design effect first."),
                (lambda: _z_clusters(float(abt.design_effect(STORE_SIZE, STORE_ICC))),
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
            (REVENUE_TREATMENT - REVENUE_CONTROL) / OPENED,
            rtol=1e-3,
            hint="Wald estimator: CACE = ITT / (share opening in treatment - share opening in "
            "control); nobody in control can open an e-mail that was never sent.",
            mistakes=[
                (REVENUE_TREATMENT - REVENUE_CONTROL, "That is the intention-to-treat effect, "
                 "the effect of sending. The effect of opening, on the users who open, is "
                 "larger: divide by the share who opened."),
                ((REVENUE_TREATMENT - REVENUE_CONTROL) * OPENED, "Multiplying dilutes the "
                 "effect further; the ITT is already the complier effect diluted by the "
                 "25% who open, so divide by 0.25."),
            ],
        ),
    ),
    Exercise(
        "16.4",
        "power_interaction",
        Number(
            lambda: float(abt.interaction_power(INTERACTION, 1.0, CELL_USERS)),
            rtol=2e-3,
            hint="SE of the interaction contrast = sqrt(4 sd^2 / n) = 2 sd / sqrt(n); power = "
            "Phi(gamma / SE - 1.96) + Phi(-gamma / SE - 1.96); or "
            "abt.interaction_power(0.1, 1.0, 2000).",
            mistakes=[
                (lambda: float(abt.power_means(INTERACTION, 1.0, 2 * CELL_USERS)),
                 "That is the power for a MAIN effect of 0.1 (2 cells, 4,000 users per arm). "
                 "The interaction contrast combines all four cells with signs, so its "
                 "standard error is twice as large."),
                (lambda: float(abt.power_means(INTERACTION, 1.0, CELL_USERS)),
                 "That compares two cells of 2,000 users; the interaction contrast uses all "
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
        fixed=True,
    ),
)
