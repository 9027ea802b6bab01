"""Answer key of chapter 5, Analyzing results (``solutions/05_analysis.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

import abteach as abt
from abteach.course.check import Choice, Exercise, Number
from abteach.course.editions import Substitution

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 05.1-05.3: a sign-up test with a 3:1 split.
    "05.1": {"x_control": 900, "n_control": 30_000, "x_treatment": 345, "n_treatment": 10_000},
    # 05.4-05.5: revenue per user summarized per arm (mean, sd, users).
    "05.4": {"control": (12.40, 31.5, 1_800), "treatment": (14.10, 44.0, 600)},
    # 05.6: clicks and page views of 12 users per arm.
    "05.6": {"clicks_control": (0, 3, 0, 1, 6, 0, 0, 1, 4, 0, 2, 0),
             "views_control": (3, 8, 1, 5, 12, 2, 6, 4, 9, 2, 7, 3),
             "clicks_treatment": (1, 0, 7, 2, 0, 1, 5, 0, 1, 6, 0, 2),
             "views_treatment": (4, 2, 10, 6, 1, 3, 8, 5, 2, 11, 3, 6)},
    # 05.8: skewness of revenue per user.
    "05.8": {"skewness": 4.5},
}


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "05.1":
        n_treatment = 1_000 * int(rng.integers(8, 15))
        p_control = rng.uniform(0.025, 0.035)
        lift = rng.uniform(0.08, 0.20)
        return {"x_control": int(round(p_control * 3 * n_treatment)), "n_control": 3 * n_treatment,
                "x_treatment": int(round(p_control * (1 + lift) * n_treatment)), "n_treatment": n_treatment}
    if group == "05.4":
        mean = round(float(rng.uniform(10, 15)), 2)
        return {"control": (mean, round(float(rng.uniform(25, 35)), 1), 100 * int(rng.integers(15, 25))),
                "treatment": (round(mean + float(rng.uniform(1, 2.5)), 2), round(float(rng.uniform(38, 48)), 1),
                              100 * int(rng.integers(5, 9)))}
    if group == "05.6":
        views = rng.integers(1, 13, size=(2, 12))
        clicks = rng.binomial(views, 0.3)
        return {"clicks_control": tuple(map(int, clicks[0])), "views_control": tuple(map(int, views[0])),
                "clicks_treatment": tuple(map(int, clicks[1])), "views_treatment": tuple(map(int, views[1]))}
    if group == "05.8":
        return {"skewness": float(rng.choice(np.arange(2.0, 7.0, 0.5)))}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _signup_text(i) -> str:
    s = i["05.1"]
    return (f"{s['x_control']:,} of {s['n_control']:,} control users signed up, and {s['x_treatment']:,} of\n"
            f"{s['n_treatment']:,} treatment users")


def _lift_text(i) -> str:
    s = i["05.1"]
    lift = s["x_treatment"] / s["n_treatment"] / (s["x_control"] / s["n_control"]) - 1
    return f"$p_t / p_c - 1 = {100 * lift:+.0f}\\%$"


def _revenue_text(i) -> str:
    (mc, sc, nc), (mt, st, nt) = i["05.4"]["control"], i["05.4"]["treatment"]
    return (f"Control: mean {mc:.2f} euros per user, standard\ndeviation {sc:.1f}, {nc:,} users. "
            f"Treatment: mean {mt:.2f}, standard deviation {st:.1f}, {nt:,} users.")


def _list_text(name: str) -> Callable[[dict], str]:
    return lambda i: f"{name} = [{', '.join(map(str, i['05.6'][name]))}]"


SUBSTITUTIONS = (
    Substitution("900 of 30,000 control users signed up, and 345 of\n10,000 treatment users",
                 _signup_text),
    Substitution("$p_t / p_c - 1 = +15\\%$", _lift_text),
    Substitution("Control: mean 12.40 euros per user, standard\ndeviation 31.5, 1,800 users. Treatment: mean "
                 "14.10, standard deviation 44.0, 600 users.", _revenue_text),
    *(Substitution(f"{name} = [{', '.join(map(str, PUBLIC_INPUTS['05.6'][name]))}]", _list_text(name))
      for name in PUBLIC_INPUTS["05.6"]),
    Substitution("a skewness of 4.5.", lambda i: f"a skewness of {i['05.8']['skewness']:g}."),
)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    s = inputs["05.1"]
    X_CONTROL, N_CONTROL, X_TREATMENT, N_TREATMENT = (
        s["x_control"], s["n_control"], s["x_treatment"], s["n_treatment"])
    MEANS_CONTROL, MEANS_TREATMENT = inputs["05.4"]["control"], inputs["05.4"]["treatment"]
    c = inputs["05.6"]
    CLICKS_CONTROL, VIEWS_CONTROL = c["clicks_control"], c["views_control"]
    CLICKS_TREATMENT, VIEWS_TREATMENT = c["clicks_treatment"], c["views_treatment"]
    SKEWNESS = inputs["05.8"]["skewness"]
    def _ztest(**options):
        return abt.ztest_proportions(X_CONTROL, N_CONTROL, X_TREATMENT, N_TREATMENT, **options)


    def _pooled_se_ci_low() -> float:
        """Lower 95% bound built, wrongly, with the pooled standard error of the test."""
        pooled = (X_CONTROL + X_TREATMENT) / (N_CONTROL + N_TREATMENT)
        se = np.sqrt(pooled * (1 - pooled) * (1 / N_CONTROL + 1 / N_TREATMENT))
        return _ztest().effect - stats.norm.isf(0.025) * se


    def _symmetric_lift_ci_low() -> float:
        """Lower 95% bound of the lift by the delta method on the ratio itself."""
        res = _ztest()
        v_c = res.p_control * (1 - res.p_control) / N_CONTROL
        v_t = res.p_treatment * (1 - res.p_treatment) / N_TREATMENT
        se = np.sqrt(v_t / res.p_control**2 + res.p_treatment**2 * v_c / res.p_control**4)
        return res.lift - stats.norm.isf(0.025) * se


    def _welch(**options):
        return abt.welch_ttest_from_stats(*MEANS_CONTROL, *MEANS_TREATMENT, **options)


    def _ctr(method: str = "delta"):
        return abt.ratio_metric_test(CLICKS_CONTROL, VIEWS_CONTROL, CLICKS_TREATMENT,
                                     VIEWS_TREATMENT, method=method)


    def _mean_of_user_ctrs_se() -> float:
        """SE of Welch's test on each user's own click-through rate (a different metric)."""
        return abt.welch_ttest(np.divide(CLICKS_CONTROL, VIEWS_CONTROL),
                               np.divide(CLICKS_TREATMENT, VIEWS_TREATMENT)).se


    return (
        Exercise(
            "05.1",
            "pvalue_z",
            Number(
                lambda: _ztest().pvalue,
                rtol=2e-3,
                hint="Use abt.ztest_proportions(x_control, n_control, x_treatment, n_treatment): the "
                "pooled z-test, two-sided; give its pvalue.",
                mistakes=[
                    (lambda: _ztest(pooled=False).pvalue, "That is the p-value with the unpooled "
                     "standard error. The test assumes H0 (one common rate), so its standard error "
                     "uses the pooled rate (pooled=True, the default)."),
                    (lambda: _ztest(alternative="larger").pvalue, "That is the one-sided p-value, half "
                     "the two-sided one. The test was planned two-sided; do not choose a side after "
                     "seeing the data."),
                ],
            ),
        ),
        Exercise(
            "05.2",
            "effect_ci_low",
            Number(
                lambda: _ztest().ci_low,
                rtol=1e-3,
                hint="Read ci_low of abt.ztest_proportions(...): effect - 1.96 * unpooled SE, as a "
                "difference of rates (0.001 is 0.1 percentage point).",
                mistakes=[
                    (_pooled_se_ci_low, "You built the interval with the pooled standard error of "
                     "the test. The interval does not assume H0: it uses each arm's own variance "
                     "(the unpooled SE), which abteach's ci_low does."),
                    (lambda: _ztest(alternative="larger").ci_low, "That is the one-sided 95% lower "
                     "bound (z = 1.645). The question asks for the two-sided 95% interval "
                     "(z = 1.96)."),
                    (lambda: 100 * _ztest().ci_low, "That is in percentage points; give the bound as "
                     "a difference of rates (e.g. 0.001 for 0.1 points)."),
                ],
            ),
        ),
        Exercise(
            "05.3",
            "lift_ci_low",
            Number(
                lambda: _ztest().lift_ci_low,
                rtol=1e-3,
                hint="abt.ztest_proportions(...).lift_ci_low is the log-scale delta-method bound: "
                "exp(log(p_t / p_c) - 1.96 * sqrt(v_t / p_t^2 + v_c / p_c^2)) - 1. Give it as a "
                "fraction (0.05 for +5%).",
                mistakes=[
                    (_symmetric_lift_ci_low, "That is the symmetric delta-method bound, lift - 1.96 "
                     "SE. The question asks for the log-scale interval, the one abteach reports "
                     "(lift_ci_low)."),
                    (lambda: _ztest().ci_low / _ztest().p_control, "You divided the bound of the "
                     "ABSOLUTE effect by the control rate. That ignores the noise of the control rate "
                     "in the denominator; use the delta method (lift_ci_low)."),
                    (lambda: 100 * _ztest().lift_ci_low, "That is in percent; give the lift as a "
                     "fraction (0.05 for +5%)."),
                ],
            ),
        ),
        Exercise(
            "05.4",
            "t_welch",
            Number(
                lambda: _welch().statistic,
                rtol=1e-3,
                hint="t = (mean_t - mean_c) / sqrt(sd_c^2 / n_c + sd_t^2 / n_t), or "
                "abt.welch_ttest_from_stats(mean_c, sd_c, n_c, mean_t, sd_t, n_t).statistic.",
                mistakes=[
                    (lambda: _welch(equal_var=True).statistic, "That is Student's t with the pooled "
                     "variance. With unequal sizes and variances use Welch's standard error, "
                     "sqrt(sd_c^2/n_c + sd_t^2/n_t) (equal_var=False, the default)."),
                    (lambda: -_welch().statistic, "The sign is reversed: the effect is treatment "
                     "minus control."),
                ],
            ),
        ),
        Exercise(
            "05.5",
            "df_welch",
            Number(
                lambda: _welch().df,
                rtol=5e-4,  # 2,400 users and Student's 2,398 differ by 8e-4
                hint="Welch-Satterthwaite: df = (v_c + v_t)^2 / (v_c^2 / (n_c - 1) + v_t^2 / "
                "(n_t - 1)) with v = sd^2 / n; abt.welch_ttest_from_stats(...).df.",
                mistakes=[
                    (lambda: _welch(equal_var=True).df, "That is Student's n_c + n_t - 2. Welch's "
                     "test uses the Welch-Satterthwaite degrees of freedom, which depend on the two "
                     "variances."),
                    (lambda: MEANS_CONTROL[2] + MEANS_TREATMENT[2], "That is the number of users; "
                     "the degrees of freedom come from the Welch-Satterthwaite formula."),
                    (lambda: min(MEANS_CONTROL[2], MEANS_TREATMENT[2]) - 1, "min(n_c, n_t) - 1 is "
                     "the conservative textbook shortcut; the question asks for the "
                     "Welch-Satterthwaite value."),
                ],
            ),
        ),
        Exercise(
            "05.6",
            "se_ctr",
            Number(
                lambda: _ctr().se,
                rtol=1e-3,
                hint="abt.ratio_metric_test(clicks_c, views_c, clicks_t, views_t).se: the delta "
                "method, with the user as the unit.",
                mistakes=[
                    (lambda: _ctr("naive").se, "That is the naive SE, which treats every page view as "
                     "an independent trial. One user's page views are correlated: use the delta "
                     "method (method='delta', the default)."),
                    (_mean_of_user_ctrs_se, "That is the SE of the average of the users' own CTRs, "
                     "a different metric. The CTR is total clicks / total views per arm; its SE "
                     "comes from the delta method."),
                    (lambda: _ctr().se_treatment, "That is the SE of the treatment arm's CTR alone; "
                     "the difference has SE sqrt(SE_c^2 + SE_t^2)."),
                ],
            ),
        ),
        Exercise(
            "05.7",
            "ci_reading",
            fixed=True,
            answer=Choice(
                "c",
                options=("a", "b", "c", "d"),
                hints={
                    "a": "Not significant is not the same as no effect: the interval still contains "
                    "gains of up to 0.45 points. Absence of evidence is not evidence of absence.",
                    "b": "The interval contains 0 and small losses; a positive point estimate that is "
                    "not significant does not establish a positive effect.",
                    "d": "+0.4 points lies INSIDE the interval, so the data are compatible with it: "
                    "nothing in that range is ruled out.",
                },
            ),
        ),
        Exercise(
            "05.8",
            "n_normal",
            Number(
                lambda: abt.min_sample_size_for_normality(SKEWNESS),
                rtol=1e-3,
                hint="Kohavi's rule of thumb (section 5.6): n > 355 gamma^2 users per arm, "
                "gamma the skewness; abt.min_sample_size_for_normality(gamma).",
                mistakes=[
                    (lambda: 355 * SKEWNESS, "The rule squares the skewness: 355 * gamma^2, not 355 * gamma."),
                    (lambda: 2 * abt.min_sample_size_for_normality(SKEWNESS), "The rule gives users "
                     "per arm (per variant); you doubled it for both arms."),
                    (lambda: 355 * np.sqrt(SKEWNESS), "The rule squares the skewness: 355 * gamma^2, not "
                     "355 * sqrt(gamma)."),
                ],
            ),
        ),
    )


EXERCISES = exercises(PUBLIC_INPUTS)
