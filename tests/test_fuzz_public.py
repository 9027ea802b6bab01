"""Adversarial arguments for every public callable of abteach.

``VALID_CALLS`` holds one small, fast, valid call per public function or user-constructed class
(``abt.X(**kwargs)``; every parameter with a default is added from the signature, so defaults
are fuzzed too). Result records and tuples, which users receive rather than build, are listed
in ``PRODUCED_BY`` with the function that returns them. A meta-test makes sure the two tables
cover every callable in ``abt.__all__``: a new public name without an entry fails the suite.

For each public name, hypothesis picks ONE argument and replaces it with a hostile value (None,
booleans, text, bytes, NaN, +-inf, 0, -1, huge and tiny numbers, empty and ragged lists, arrays
with NaN or of a wrong shape, dicts, and drawn numbers). The call must then either return a
result without NaN, or raise a ``ValueError``/``TypeError`` whose message names the mutated
argument (or one of the few aliases in ``ALIASES``). Every call runs under a CPU-time budget
and an address-space cap, so a call that runs away (time or memory) fails instead of hanging
the suite.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import math
import os
import pickle
import resource
import select
import signal
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import abteach as abt
from abteach._records import Record

#: CPU-time budget of one call, the address space a call may add to the process, and how long
#: a forked call may sit idle (blocked) before it is killed.
CALL_SECONDS = 10
WAIT_SECONDS = 300
EXTRA_ADDRESS_SPACE = 3 * 2**30

# --------------------------------------------------------------------------------------------
# Objects that valid calls need (built once; each call gets a deep copy)
# --------------------------------------------------------------------------------------------


@functools.cache
def events():
    return abt.simulate_events(
        60, days=2, p_purchase=0.3, lift=0.1, revenue_mean=20.0, rng=1
    ).events


@functools.cache
def users():
    return abt.demo_users(rng=1, days=7)


@functools.cache
def aggregates():
    return abt.demo_aggregates(rng=1, days=7)


@functools.cache
def ztest():
    return abt.ztest_proportions(120, 1000, 150, 1000)


@functools.cache
def ttest():
    return abt.welch_ttest_from_stats(10.0, 2.0, 200, 10.5, 2.1, 210)


@functools.cache
def design():
    return abt.boundaries(3)


@functools.cache
def mixture():
    return abt.msprt([0.1, 0.2, 0.15], [0.01, 0.005, 0.003], tau2=0.01)


@functools.cache
def daily():
    return abt.daily_effects([1, 2, 3], [100, 100, 100], [10, 12, 11], [100, 100, 100],
                             [14, 15, 13])


@functools.cache
def guard():
    return abt.guardrail_check("latency", ttest(), tolerated_degradation=0.02,
                               bad_direction="increase")


@functools.cache
def srm():
    return abt.srm_test([1000, 1010])


@functools.cache
def decision():
    return abt.decide(ztest(), guardrails=[guard()], srm=srm())


@functools.cache
def metric():
    return abt.Metric("conversion", "proportion", 0.1, 0.01)


@functools.cache
def spec():
    return abt.ExperimentSpec(
        name="checkout", hypothesis="h", eligibility="all", primary_metric=metric(),
        allocation={"control": 0.5, "treatment": 0.5}, daily_eligible_units=1000.0,
    )


@functools.cache
def daily_simulation():
    return abt.simulate_daily_effects(
        profile="stable", long_run_effect=0.01, baseline=0.1, n_days=4, new_users_per_day=50,
        return_rate=0.5, n_experiments=3, rng=1,
    )


@functools.cache
def uplift():
    return abt.simulate_uplift_data(60, rng=1)


@functools.cache
def monitor():
    return abt.srm_monitor([[100, 102], [98, 101], [103, 99]])


def _measure(runs, rng):
    return float(np.mean(rng.random(runs) < 0.05))


def _compute():
    return 1.0


# --------------------------------------------------------------------------------------------
# The table: one valid call per public function and user-built class
# --------------------------------------------------------------------------------------------

#: name -> kwargs, or a function returning kwargs (for calls that need built objects).
VALID_CALLS: dict[str, dict | object] = {
    # assignment
    "aa_test": dict(values=[1.0, 2.0, 3.0, 4.0, 2.5, 3.5], variants=[0, 1, 0, 1, 0, 1]),
    "assign": dict(unit_id="u1", experiment_key="exp", weights=[0.5, 0.5]),
    "assign_many": dict(unit_ids=["u1", "u2", "u3"], experiment_key="exp", weights=[0.5, 0.5]),
    "bucket_ranges": dict(weights=[0.5, 0.5]),
    "bucket_uniformity": dict(unit_ids=[f"u{i}" for i in range(50)], experiment_key="exp",
                              n_buckets=5),
    "choose_variation": dict(value=0.3, ranges=[(0.0, 0.5), (0.5, 1.0)]),
    "fnv1a32": dict(data="abc"),
    "growthbook_hash": dict(seed="s", value="a"),
    "in_namespace": dict(unit_id="u1", namespace=("ns", 0.0, 0.5)),
    "independence_test": dict(variants_a=[0, 1, 0, 1, 1, 0, 0, 1],
                              variants_b=[0, 0, 1, 1, 0, 1, 0, 1]),
    "make_unit_ids": dict(n=5),
    "sha256_unit": dict(unit_id="u1", salt="s"),
    "simulate_aa": dict(values=np.linspace(1.0, 4.0, 20), n_runs=5, rng=1),
    "stratified_assignment": dict(strata=[0, 0, 1, 1, 1, 0], weights=[0.5, 0.5], rng=1),
    # bayes
    "beta_binomial_ab": dict(x_control=10, n_control=100, x_treatment=15, n_treatment=100,
                             draws=2000, rng=1),
    "prob_greater": dict(a_x=11, b_x=91, a_y=16, b_y=86),
    "simulate_bayes_peeking": dict(p=0.1, n_per_look=20, looks=3, runs=20, rng=1),
    # budget
    "simulate_budget_experiment": dict(n_advertisers=10, periods=4, runs=5, rng=1),
    # dashboard
    "analyze": lambda: dict(aggregates=aggregates(), experiment=aggregates()["experiment"].iloc[0],
                            metric=aggregates()["metric"].iloc[0]),
    "cumulative_effects": lambda: dict(aggregates=aggregates()),
    "daily_aggregates": lambda: dict(users=users(), metrics=["conversion"]),
    "demo_aggregates": dict(rng=1, days=7),
    "demo_users": dict(rng=1, days=7),
    "live_dashboard": lambda: dict(aggregates=aggregates()),
    "LiveDashboard": lambda: dict(aggregates=aggregates()),
    "static_dashboard": lambda: dict(aggregates=aggregates()),
    # decision
    "decide": lambda: dict(primary=ztest(), guardrails=[guard()], srm=srm()),
    "expected_impact": lambda: dict(result=ztest(), units=1e6),
    # events: dilution
    "diluted_effect": dict(triggered_effect=0.02, triggered_se=0.005, n_triggered=600,
                           n_exposed=1_000),
    "experiment_report": lambda: dict(spec=spec(), decision=decision(),
                                      results={"conversion": ztest()}, date="2024-01-01"),
    "guardrail_check": lambda: dict(name="latency", result=ttest(), tolerated_degradation=0.02,
                                    bad_direction="increase"),
    "power_equivalence": dict(effect=0.0, n_control=1000, margin=0.02, p_control=0.1),
    "power_noninferiority": dict(effect=0.0, n_control=100, margin=0.5, sd=2.0),
    "power_ship_rule": dict(effect=0.02, n_control=1000, minimum_effect=0.01, p_control=0.1),
    "sample_size_equivalence": dict(effect=0.01, margin=0.5, sd=2.0),
    "sample_size_noninferiority": dict(effect=0.0, margin=0.01, p_control=0.1),
    "sample_size_ship_rule": dict(effect=0.5, minimum_effect=0.2, sd=2.0),
    # events and the real data sets
    "EventStore": dict(path=None),
    "hillstrom": dict(),
    "asos": dict(),
    "hillstrom_events": dict(arm="Womens E-Mail", experiment="hs"),
    # inference
    "bootstrap_ci": dict(control=[1.0, 2.0, 3.0, 4.0, 5.0], treatment=[2.0, 3.0, 4.0, 5.0, 7.0],
                         n_resamples=200, rng=1),
    "barnard_exact_test": dict(x_control=3, n_control=15, x_treatment=7, n_treatment=12),
    "cap_threshold": dict(reference=[1.0, 2.0, 3.0, 4.0, 100.0], quantile=0.9),
    "fisher_exact_test": dict(x_control=1, n_control=4, x_treatment=3, n_treatment=4),
    "permutation_test": dict(control=[1.0, 2.0, 3.0, 4.0], treatment=[2.0, 3.0, 5.0, 7.0]),
    "quantile_test": dict(control=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], treatment=[2.0, 3.0, 5.0, 7.0, 8.0, 9.0],
                          quantile=0.5, clusters_control=[1, 1, 2, 2, 3, 3]),
    "winsorize": dict(values=[1.0, 5.0, 250.0], upper=100.0, lower=0.0),
    "chisq_proportions": dict(successes=[10, 15, 12], trials=[100, 100, 100]),
    "lift_interval": lambda: dict(result=ztest()),
    "min_sample_size_for_normality": dict(skewness=2.0),
    "ratio_metric_test": dict(num_control=[1.0, 2.0, 3.0, 2.0], den_control=[1.0, 2.0, 2.0, 1.0],
                              num_treatment=[2.0, 2.0, 3.0, 4.0],
                              den_treatment=[1.0, 2.0, 2.0, 3.0]),
    "sample_size_ratio": dict(delta=0.01, mean_num=0.5, mean_den=5.0, sd_num=1.0, sd_den=2.0,
                              correlation=0.3),
    "welch_ttest": dict(control=[1.0, 2.0, 3.0, 4.0], treatment=[2.0, 3.0, 5.0, 4.0]),
    "welch_ttest_from_stats": dict(mean_control=10.0, sd_control=2.0, n_control=200,
                                   mean_treatment=10.5, sd_treatment=2.1, n_treatment=210),
    "welch_ttest_from_sums": dict(n_control=4, sum_control=10.0, sum_sq_control=30.0,
                                  n_treatment=4, sum_treatment=14.0, sum_sq_treatment=54.0),
    "moments_from_sums": dict(n=4, total=10.0, total_sq=30.0),
    "ztest_proportions": dict(x_control=120, n_control=1000, x_treatment=150, n_treatment=1000),
    # interference
    "cluster_design": dict(delta=0.25, sd=1.0, cluster_size=20, icc=0.05),
    "cluster_ttest": dict(sum_control=[10.0, 12.0, 9.0], size_control=[5.0, 6.0, 4.0],
                          sum_treatment=[14.0, 11.0, 13.0], size_treatment=[5.0, 5.0, 6.0]),
    "complier_effect": dict(outcome_control=[1.0, 2.0, 1.5, 0.5],
                            received_control=[0.0, 0.0, 0.0, 0.0],
                            outcome_treatment=[2.0, 3.0, 1.0, 2.5],
                            received_treatment=[1.0, 0.0, 1.0, 1.0]),
    "design_effect": dict(cluster_size=20, icc=0.05),
    "interaction_power": dict(interaction=0.1, sd=1.0, n_per_cell=500),
    "interaction_test": dict(mean=[[1.0, 1.1], [1.2, 1.4]], sd=[[1.0, 1.0], [1.0, 1.0]],
                             n=[[100, 100], [100, 100]]),
    "simulate_switchback": dict(periods=6, period_length=3, effect=0.5, carryover=1,
                                autocorrelation=0.5, runs=2, rng=1),
    "switchback_test": dict(outcome=[1.0, 1.2, 0.8, 2.0, 2.2, 1.9, 1.1, 0.9, 1.0, 2.1, 1.8,
                                     2.3], treated=[0, 1, 0, 1], burn_in=1),
    # multiple
    "adjust_pvalues": dict(pvalues=[0.01, 0.04, 0.03], method="holm"),
    "error_rates": dict(reject=[[True, False], [False, False]], is_null=[True, False]),
    "multiple_tests": dict(pvalues=[0.01, 0.04, 0.03], method="holm"),
    "simulate_many_variants": dict(p_control=0.1, p_variants=[0.1, 0.12], n_control=100,
                                   n_variant=100, n_experiments=5, rng=1),
    "simulate_pvalues": dict(effects=[0.0, 1.0], n_experiments=5, rng=1),
    # novelty
    "clustered_daily_effects": dict(values=[[1.0, 2.0], [2.0, float("nan")], [3.0, 1.0],
                                            [4.0, 5.0], [2.5, 3.5], [1.5, float("nan")]],
                                    treated=[0, 1, 0, 1, 1, 0]),
    "daily_effects": dict(day=[1, 2, 3], n_control=[100, 100, 100], sum_control=[10, 12, 11],
                          n_treatment=[100, 100, 100], sum_treatment=[14, 15, 13]),
    "fit_decay": dict(time=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                      effect=[0.5, 0.35, 0.28, 0.22, 0.21, 0.2], se=[0.03] * 6),
    "simulate_daily_effects": dict(profile="stable", long_run_effect=0.01, baseline=0.1,
                                   n_days=4, new_users_per_day=50, return_rate=0.5, rng=1),
    "simulate_user_days": dict(profile="stable", long_run_effect=0.5, baseline=10.0, sd=1.0,
                               user_sd=2.0, n_days=4, new_users_per_day=10, return_rate=0.5,
                               rng=1),
    "trend_test": dict(time=[1.0, 2.0, 3.0, 4.0], effect=[0.3, 0.25, 0.22, 0.2],
                       se=[0.05, 0.05, 0.05, 0.05]),
    "trend_test_power": lambda: dict(simulation=daily_simulation()),
    "exposure_effects": dict(unit=list("aabbccdd"), treated=np.repeat([False, True], 4),
                             age=[0, 1] * 4, outcome=[1.0, 0.0, 2.0, 1.0, 2.0, 2.0, 3.0, 1.0]),
    "window_effects": dict(unit=list("aabbccddefgh"),
                           treated=np.array([u in "cdgh" for u in "aabbccddefgh"]),
                           age=[0, 1] * 4 + [0] * 4, outcome=[1.0, 5, 0, 5, 1, 0, 1, 0, 0, 0, 1, 0],
                           cohort=[1] * 8 + [2] * 4, window=1),
    # power
    "duration_days": dict(n_control=1000, daily_eligible_units=500),
    "mde_proportions": dict(p_control=0.1, n_control=1000),
    "power_means": dict(delta=0.5, sd=2.0, n_control=100),
    "power_proportions": dict(p_control=0.1, p_treatment=0.12, n_control=1000),
    "sample_size_means": dict(delta=0.5, sd=2.0),
    "sample_size_proportions": dict(p_control=0.1, p_treatment=0.12),
    # segments
    "heterogeneity_test": dict(effects=[0.1, 0.2, 0.15], standard_errors=[0.05, 0.06, 0.04]),
    "segment_effects_means": dict(segments=["a", "b"], mean_control=[10.0, 11.0],
                                  sd_control=[2.0, 2.0], n_control=[100, 120],
                                  mean_treatment=[10.5, 11.2], sd_treatment=[2.0, 2.1],
                                  n_treatment=[110, 115]),
    "segment_effects_proportions": dict(segments=["a", "b"], x_control=[10, 20],
                                        n_control=[100, 120], x_treatment=[15, 22],
                                        n_treatment=[110, 115]),
    "shrink_effects": dict(effects=[0.1, 0.2, 0.15], standard_errors=[0.05, 0.06, 0.04]),
    # sequential
    "alpha_spending": dict(information_fractions=[0.5, 1.0]),
    "boundaries": dict(looks=3),
    "compare_designs": dict(n_experiments=20, looks=3, drift=1.0, rng=1),
    "crossing_probabilities": lambda: dict(design=design(), drift=1.0),
    "design_characteristics": lambda: dict(design=design()),
    "msprt": dict(estimates=[0.1, 0.2, 0.15], variances=[0.01, 0.005, 0.003], tau2=0.01),
    "peeking_false_positive_rate": dict(looks=3),
    "sequential_analysis": lambda: dict(z_values=[1.0, 2.0, 2.5],
                                        information_fractions=[1 / 3, 2 / 3, 1.0],
                                        design=design(), final=False),
    "replay_streams": lambda: dict(
        looks=pd.DataFrame({"stream": "a", "time": [1.0, 2.0], "n": [100, 300],
                            "estimate": [0.1, 0.2], "variance": [0.01, 0.004]}),
        planned_max={"a": 300}, tau2=0.1),
    "simulate_peeking": dict(n_experiments=20, n_looks=3, rng=1),
    "simulate_z_streams": dict(n_experiments=5, looks=3, rng=1),
    # simulate
    "add_bots": lambda: dict(events=events(), n_bots=2, events_per_bot=3, rng=1),
    "delay_events": lambda: dict(events=events(), fraction=0.2, mean_delay_hours=2.0, rng=1),
    "duplicate_events": lambda: dict(events=events(), fraction=0.1, rng=1),
    "lose_events": lambda: dict(events=events(), fraction=0.1, rng=1),
    "mislabel_local_time": lambda: dict(events=events(), fraction=0.1, utc_offset_hours=2,
                                        rng=1),
    "simulate_conversions": dict(p_control=0.1, p_treatment=0.12, n_control=100,
                                 n_treatment=100, n_experiments=5, rng=1),
    "simulate_events": dict(n_users=30, days=2, p_purchase=0.3, lift=0.1, revenue_mean=20.0,
                            rng=1),
    # spec
    "ExperimentSpec": lambda: dict(name="checkout", hypothesis="h", eligibility="all",
                                   primary_metric=metric(),
                                   allocation={"control": 0.5, "treatment": 0.5},
                                   daily_eligible_units=1000.0),
    "Guardrail": dict(name="latency", tolerated_degradation=0.02, bad_direction="increase"),
    "Metric": dict(name="conversion", kind="proportion", baseline=0.1, mde=0.01),
    # srm
    "srm_false_alarm_rate": dict(units_per_day=50, days=3, n_experiments=20, rng=1),
    "srm_monitor": dict(daily_counts=[[100, 102], [98, 101], [103, 99]]),
    "srm_test": dict(counts=[1000, 1010]),
    # uplift
    "design_matrix": dict(features=[[0.1, 0.2], [0.3, 0.4], [0.5, 0.1]], degree=2),
    "fit_ols": dict(design=[[1.0, 0.1], [1.0, 0.5], [1.0, 0.9], [1.0, 0.3]],
                    outcome=[1.0, 2.0, 3.0, 1.5]),
    "qini_coefficient": lambda: dict(uplift_scores=uplift().tau, treated=uplift().treated,
                                     outcome=uplift().outcome),
    "qini_curve": lambda: dict(uplift_scores=uplift().tau, treated=uplift().treated,
                               outcome=uplift().outcome),
    "s_learner": lambda: dict(features=uplift().features, treated=uplift().treated,
                              outcome=uplift().outcome),
    "simulate_uplift_data": dict(n=30, rng=1),
    "t_learner": lambda: dict(features=uplift().features, treated=uplift().treated,
                              outcome=uplift().outcome),
    "targeting_gain": lambda: dict(uplift_scores=uplift().tau, treated=uplift().treated,
                                   outcome=uplift().outcome, fraction=0.5),
    # validation
    "ErrorRateCheck": dict(procedure="p", function="f", promise="5%", kind="at most",
                           promised=0.05, runs=200, measure=_measure),
    "PublishedCheck": dict(id="x", quantity="q", source="s", published=1.0,
                           precision=("decimals", 2), compute=_compute),
    "error_rate_checks": lambda: dict(scale=0.01, rng=1, checks=[abt.ERROR_RATE_CHECKS[0]]),
    "published_checks": lambda: dict(checks=[abt.PUBLISHED_CHECKS[0]]),
    "published_numbers": dict(),
    "run_error_rate_check": lambda: dict(check=abt.ERROR_RATE_CHECKS[0], runs=100, rng=1),
    "runs_to_resolve": dict(promised=0.05, points=1.0),
    # variance
    "cuped_adjust": dict(y=[1.0, 2.0, 3.0, 4.0, 3.0], covariate=[1.1, 1.9, 3.2, 3.8, 2.9]),
    "cuped_test": dict(y_control=[1.0, 2.0, 3.0, 4.0, 3.0],
                       covariate_control=[1.1, 1.9, 3.2, 3.8, 2.9],
                       y_treatment=[2.0, 2.5, 3.5, 4.5, 3.0],
                       covariate_treatment=[1.9, 2.4, 3.4, 4.1, 3.1]),
    # viz
    "confidence_sequence": lambda: dict(result=mixture()),
    "effect_over_time": lambda: dict(daily=daily()),
    "forest_plot": lambda: dict(results={"a": ztest(), "b": ztest()}),
    "guardrail_status": lambda: dict(checks=[guard()]),
    "metric_over_time": dict(day=[1, 2, 3], value=[0.1, 0.2, 0.15], ci_low=[0.0, 0.1, 0.05],
                             ci_high=[0.2, 0.3, 0.25]),
    "sequential_monitor": lambda: dict(analysis=abt.sequential_analysis(
        [1.0, 2.0, 2.5], [1 / 3, 2 / 3, 1.0], design())),
    "srm_panel": lambda: dict(monitor=monitor()),
}

#: Result records and tuples users receive, not build: name -> the function that returns one.
PRODUCED_BY = {
    "AATest": "aa_test", "BayesPeeking": "simulate_bayes_peeking",
    "BetaBinomialAB": "beta_binomial_ab", "BootstrapCI": "bootstrap_ci",
    "BudgetExperiment": "simulate_budget_experiment",
    "CrossingProbabilities": "crossing_probabilities", "CupedAdjustment": "cuped_adjust",
    "CupedTest": "cuped_test", "DailyEffects": "daily_effects", "ExactTest": "fisher_exact_test",
    "ExposureEffects": "exposure_effects", "PermutationTest": "permutation_test",
    "QuantileTest": "quantile_test",
    "DashboardAnalysis": "analyze", "DecayFit": "fit_decay", "Decision": "decide",
    "DelayedEvents": "delay_events", "DilutedEffect": "diluted_effect", "DesignCharacteristics": "design_characteristics",
    "ErrorRates": "error_rates", "EventTruth": "simulate_events",
    "ExpectedImpact": "expected_impact", "GroupSequentialDesign": "boundaries",
    "GuardrailCheck": "guardrail_check", "Heterogeneity": "heterogeneity_test",
    "IndependenceTest": "independence_test", "IngestResult": None,
    "MeansTTest": "welch_ttest", "MixtureSPRT": "msprt", "MultipleTests": "multiple_tests",
    "PeekingSimulation": "simulate_peeking", "ProportionsChiSquare": "chisq_proportions",
    "ProportionsZTest": "ztest_proportions", "QiniCurve": "qini_curve",
    "RatioMetricTest": "ratio_metric_test", "SRMFalseAlarms": "srm_false_alarm_rate",
    "SRMMonitor": "srm_monitor", "SRMTest": "srm_test", "SegmentEffects":
    "segment_effects_proportions", "SequentialAnalysis": "sequential_analysis",
    "Shrinkage": "shrink_effects", "SimulatedConversions": "simulate_conversions",
    "SimulatedDailyEffects": "simulate_daily_effects", "SimulatedEvents": "simulate_events",
    "SimulatedUserDays": "simulate_user_days",
    "SimulatedVariants": "simulate_many_variants", "TargetingGain": "targeting_gain",
    "TrendTest": "trend_test", "TrendTestPower": "trend_test_power",
    "UniformityTest": "bucket_uniformity", "UpliftData": "simulate_uplift_data",
    "Moments": "moments_from_sums",
    "ClusterDesign": "cluster_design", "ClusterTest": "cluster_ttest",
    "ComplierEffect": "complier_effect", "InteractionTest": "interaction_test",
    "SimulatedSwitchback": "simulate_switchback", "SwitchbackTest": "switchback_test",
}

#: Names an error message may use for an argument besides its own. Kept small: each entry is
#: a message that legitimately names what the argument sets rather than the argument.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {}

#: NaN a valid result holds by design, by function: event tables leave ``revenue`` empty (NaN)
#: on every event that is not a purchase, as ``simulate_events`` documents.
NAN_DOCUMENTED: dict[str, tuple[str, ...]] = {
    **{name: ("['revenue']",)
       for name in ("simulate_events", "add_bots", "delay_events", "duplicate_events",
                    "lose_events", "mislabel_local_time", "hillstrom_events")},
    # the released ASOS file has empty variance fields; the loader keeps and flags them
    "asos": ("['variance_c']", "['variance_t']"),
    # a users x ages table: NaN where a user was not active, as simulate_user_days documents
    "simulate_user_days": (".values",),
}

#: Deprecated aliases kept for one release: fuzzed through the new name, tested to warn.
DEPRECATED = {"analyse": "analyze"}

#: Functions known to fail the fuzz, each run as a strict xfail with the reason (it fails the
#: suite the moment it passes). Empty: every public callable passes.
KNOWN_FAILURES: dict[str, str] = {}

# --------------------------------------------------------------------------------------------
# Machinery
# --------------------------------------------------------------------------------------------

PUBLIC_CALLABLES = sorted(
    n for n in abt.__all__ if callable(getattr(abt, n)) and n not in DEPRECATED
)

HOSTILE = [
    None, True, False, "", "abc", "1", b"\x00", float("nan"), float("inf"), float("-inf"),
    0, -1, 0.0, -0.5, 1e300, -1e300, 10**12, 2**63, 5e-324, 1.5, [], [[]], [1, [2, 3]],
    [[1, 2], [3]], [None], ["a", "b"], [float("nan"), 1.0], [float("inf")], [1e300, 1.0],
    np.array([np.nan, 1.0]), np.array([1.0, 2.0]), np.zeros((2, 3)), np.array(5.0),
    np.array([], dtype=float), {}, {"a": 1}, object(), (0.5,), [0.5, 0.5, 0.5],
    pd.DataFrame(), pd.DataFrame({"a": [1.0, np.nan]}),
]

hostile_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
    st.text(max_size=5),
)


class RunawayCall(Exception):
    """A call exceeded its CPU-time budget."""


def _on_budget(signum, frame):
    raise RunawayCall(f"call used more than {CALL_SECONDS} s of CPU time")


@contextlib.contextmanager
def guarded():
    """Run a block under a CPU-time alarm and an address-space cap (this process).

    CPU time rather than wall-clock time, so that a busy machine does not fail a call that
    would finish.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as status:
        used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    cap = used + EXTRA_ADDRESS_SPACE
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    previous = signal.signal(signal.SIGPROF, _on_budget)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.setitimer(signal.ITIMER_PROF, CALL_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def in_child(function, *args):
    """Run ``function(*args)`` in a forked child and return its (picklable) outcome.

    The child runs under :func:`guarded`, and under a hard CPU-time limit for code stuck in C,
    where the alarm cannot interrupt it (the kernel then ends the child). A child blocked for
    ``WAIT_SECONDS`` without using CPU is killed too. The fork also keeps whatever a hostile call
    changes (files, globals, the fixtures) out of the test process.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read_end)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (3 * CALL_SECONDS, 3 * CALL_SECONDS + 5))
            outcome = function(*args)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            outcome = ("crashed", f"{type(exc).__name__}: {exc}")
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(outcome, pipe)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], WAIT_SECONDS)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return ("runaway", f"blocked for {WAIT_SECONDS} s")
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "no result"
        return ("runaway", f"killed by the {3 * CALL_SECONDS} s CPU-time limit ({how})")
    return pickle.loads(data)


def valid_kwargs(name: str) -> dict:
    """The valid call of ``name`` with every defaulted parameter spelled out."""
    entry = VALID_CALLS[name]
    kwargs = dict(entry() if callable(entry) else entry)
    for parameter in inspect.signature(getattr(abt, name)).parameters.values():
        if parameter.name not in kwargs and parameter.default is not inspect.Parameter.empty:
            kwargs[parameter.name] = parameter.default
    return kwargs


def fresh(value):
    """A copy of a fixture argument, so a function that edits its input cannot spoil the next."""
    if isinstance(value, (pd.DataFrame, np.ndarray)):
        return value.copy()
    if isinstance(value, list):
        return [fresh(v) for v in value]
    if isinstance(value, dict):
        return {k: fresh(v) for k, v in value.items()}
    return value


def nan_paths(value, path="result", depth=0):
    """Where a result holds NaN: record fields, tuples, arrays, DataFrames (recursively)."""
    if depth > 4:
        return []
    if isinstance(value, (float, np.floating)):
        return [path] if math.isnan(value) else []
    if isinstance(value, np.ndarray):
        if np.issubdtype(value.dtype, np.floating) and np.isnan(value).any():
            return [path]
        return []
    if isinstance(value, pd.DataFrame):
        numeric = value.select_dtypes("number")
        bad = [c for c in numeric.columns if numeric[c].isna().any()]
        return [f"{path}[{c!r}]" for c in bad]
    if isinstance(value, pd.Series):
        return [path] if pd.api.types.is_numeric_dtype(value) and value.isna().any() else []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found = []
        for field in dataclasses.fields(value):
            found += nan_paths(getattr(value, field.name), f"{path}.{field.name}", depth + 1)
        return found
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        found = []
        for field in value._fields:
            found += nan_paths(getattr(value, field), f"{path}.{field}", depth + 1)
        return found
    if isinstance(value, (list, tuple)):
        found = []
        for i, item in enumerate(value[:50]):
            found += nan_paths(item, f"{path}[{i}]", depth + 1)
        return found
    if isinstance(value, dict):
        found = []
        for key, item in list(value.items())[:50]:
            found += nan_paths(item, f"{path}[{key!r}]", depth + 1)
        return found
    return []


def unexpected_nan(name: str, result) -> list[str]:
    allowed = NAN_DOCUMENTED.get(name, ())
    return [path for path in nan_paths(result) if not path.endswith(allowed)]


def close(result):
    """Release what a call opened (an EventStore's connection)."""
    if isinstance(result, abt.EventStore):
        result.close()


def call(name: str, kwargs: dict):
    with guarded(), warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning is a misbehaviour too
        return getattr(abt, name)(**kwargs)


def outcome_of(name: str, kwargs: dict):
    """Call ``name(**kwargs)`` (in a child process) and describe what happened."""
    try:
        result = call(name, kwargs)
    except (ValueError, TypeError) as exc:
        return ("refused", type(exc).__name__, str(exc))
    except RunawayCall as exc:
        return ("runaway", str(exc))
    except MemoryError:
        return ("runaway", f"ran out of the {EXTRA_ADDRESS_SPACE / 2**30:.0f} GiB budget")
    except Exception as exc:  # noqa: BLE001 - the point is to report any other exception
        return ("crashed", f"{type(exc).__name__}: {exc}")
    try:
        return ("returned", unexpected_nan(name, result))
    finally:
        close(result)


def check_mutated(name: str, argument: str, value, kwargs: dict) -> None:
    """Call ``name`` with ``argument`` replaced by ``value``; assert it behaves."""
    kwargs = {**kwargs, argument: value}
    where = f"{name}({argument}={value!r})"
    outcome = in_child(outcome_of, name, kwargs)
    kind = outcome[0]
    if kind == "refused":
        names = (argument, *ALIASES.get(name, {}).get(argument, ()))
        assert any(n in outcome[2] for n in names), (
            f"{where} raised {outcome[1]} that does not name {argument!r}: {outcome[2]}"
        )
    elif kind == "returned":
        assert not outcome[1], f"{where} returned NaN in {', '.join(outcome[1])}"
    else:
        pytest.fail(f"{where}: {kind}: {outcome[1]}")


def cases():
    for name in PUBLIC_CALLABLES:
        if name not in VALID_CALLS:
            continue
        marks = ()
        if name in KNOWN_FAILURES:
            marks = pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[name])
        yield pytest.param(name, marks=marks, id=name)


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    """Hostile text used as a path (EventStore("abc")) lands in a temporary directory."""
    monkeypatch.chdir(tmp_path)


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_tables_cover_every_public_callable():
    missing = [n for n in PUBLIC_CALLABLES if n not in VALID_CALLS and n not in PRODUCED_BY]
    assert not missing, f"public callables without a VALID_CALLS or PRODUCED_BY entry: {missing}"
    stale = sorted(set(VALID_CALLS) - set(PUBLIC_CALLABLES))
    stale += sorted(set(PRODUCED_BY) - set(PUBLIC_CALLABLES))
    assert not stale, f"entries for names that are not public callables: {stale}"
    both = sorted(set(VALID_CALLS) & set(PRODUCED_BY))
    assert not both, f"names in both tables: {both}"
    for name in PRODUCED_BY:  # a result type is a record or a tuple, never a function
        assert isinstance(getattr(abt, name), type), name
    unknown = sorted(set(KNOWN_FAILURES) - set(VALID_CALLS))
    assert not unknown, f"KNOWN_FAILURES entries without a valid call: {unknown}"


@pytest.mark.parametrize("name", [n for n in PUBLIC_CALLABLES if n in VALID_CALLS])
def test_valid_call_returns_without_nan(name):
    result = call(name, {k: fresh(v) for k, v in valid_kwargs(name).items()})
    try:
        bad = unexpected_nan(name, result)
        assert not bad, f"{name} returned NaN in {bad}"
    finally:
        close(result)


@pytest.mark.parametrize("name", sorted(n for n, f in PRODUCED_BY.items() if f))
def test_result_type_is_what_its_function_returns(name):
    result = call(PRODUCED_BY[name], valid_kwargs(PRODUCED_BY[name]))
    kind = getattr(abt, name)
    found = [result, *(result if isinstance(result, tuple) else ())]
    record = next((item for item in found if isinstance(item, kind)), None)
    assert record is not None, f"{PRODUCED_BY[name]} returned no {name}"
    if isinstance(record, Record):
        assert repr(record).startswith(name)
        assert set(record.to_dict()) <= {f.name for f in dataclasses.fields(record)}
        assert "<table" in record._repr_html_()


def test_ingest_result_comes_from_an_event_store():
    with abt.EventStore() as store:
        assert isinstance(store.ingest(events()), abt.IngestResult)


def test_deprecated_aliases_warn_and_call_the_new_name():
    for old, new in DEPRECATED.items():
        kwargs = valid_kwargs(new)
        with pytest.warns(DeprecationWarning, match=new):
            result = getattr(abt, old)(**kwargs)
        assert type(result) is type(call(new, valid_kwargs(new)))


def _fuzz(name, data):
    kwargs = valid_kwargs(name)
    if not kwargs:  # nothing to mutate: an unexpected argument is refused by name
        with pytest.raises(TypeError, match="argument"):
            getattr(abt, name)(data.draw(hostile_values, label="value"))
        return
    argument = data.draw(st.sampled_from(sorted(kwargs)), label="argument")
    value = data.draw(hostile_values, label="value")
    check_mutated(name, argument, value, kwargs)


#: Examples per public name in the default run (the ``slow`` variant runs 400).
FUZZ_EXAMPLES = int(os.environ.get("ABTEACH_FUZZ_EXAMPLES", "25"))

FUZZ_SETTINGS = dict(
    deadline=None, derandomize=True, database=None,
    phases=[Phase.explicit, Phase.generate],  # report the first failure; shrinking re-runs
    # runaway calls for minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("name", list(cases()))
@settings(max_examples=FUZZ_EXAMPLES, **FUZZ_SETTINGS)
@given(data=st.data())
def test_one_hostile_argument(name, data):
    _fuzz(name, data)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(cases()))
@settings(max_examples=400, **FUZZ_SETTINGS)
@given(data=st.data())
def test_one_hostile_argument_long(name, data):
    _fuzz(name, data)
