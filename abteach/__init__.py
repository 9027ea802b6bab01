"""abteach: the teaching library of the executable A/B testing course.

A chapter needs only ``import abteach as abt``: every public name below is available as
``abt.<name>``. Nothing is imported until it is first used (PEP 562), so ``import abteach`` is
instant, and a chapter that never opens the event store never loads DuckDB, one that draws no
figure never loads plotly, and so on. Each module of the package is also importable on its own
(``from abteach.inference import ztest_proportions``).

The course toolkit (exercise checks, grader, notebook tools, answer keys) lives in
:mod:`abteach.course`, which this package never imports; install it with
``pip install "abteach[course]"``.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

# module (relative to abteach) -> the public names it defines; each name is listed once.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "assignment": (
        "AATest", "IndependenceTest", "UniformityTest", "aa_test", "assign", "assign_many",
        "bucket_ranges", "bucket_uniformity", "choose_variation", "fnv1a32",
        "growthbook_hash", "in_namespace", "independence_test", "make_unit_ids",
        "sha256_unit", "simulate_aa", "stratified_assignment",
    ),
    "bayes": (
        "BayesPeeking", "BetaBinomialAB", "beta_binomial_ab", "prob_greater",
        "simulate_bayes_peeking",
    ),
    "budget": (
        "BudgetExperiment", "simulate_budget_experiment",
    ),
    "dashboard": (
        "DashboardAnalysis", "LiveDashboard", "analyse", "analyze", "cumulative_effects",
        "daily_aggregates", "demo_aggregates", "demo_users", "live_dashboard",
        "static_dashboard",
    ),
    "datasets": (
        "hillstrom", "asos", "hillstrom_events",
    ),
    "decision": (
        "Decision", "ExpectedImpact", "GuardrailCheck", "decide", "expected_impact",
        "experiment_report", "guardrail_check", "power_equivalence", "power_noninferiority",
        "power_ship_rule", "sample_size_equivalence", "sample_size_noninferiority",
        "sample_size_ship_rule",
    ),
    "events": (
        "DilutedEffect", "EVENT_SCHEMA", "METRIC_SQL", "EventStore", "IngestResult",
        "diluted_effect",
    ),
    "inference": (
        "BootstrapCI", "MeansTTest", "Moments", "ProportionsChiSquare", "ProportionsZTest",
        "RatioMetricTest", "bootstrap_ci", "chisq_proportions", "lift_interval",
        "min_sample_size_for_normality", "moments_from_sums", "ratio_metric_test",
        "sample_size_ratio", "welch_ttest", "welch_ttest_from_stats", "welch_ttest_from_sums",
        "ztest_proportions", "ExactTest", "PermutationTest", "QuantileTest", "barnard_exact_test",
        "cap_threshold", "fisher_exact_test", "permutation_test", "quantile_test", "winsorize",
    ),
    "interference": (
        "ClusterDesign", "ClusterTest", "ComplierEffect", "InteractionTest",
        "SimulatedSwitchback", "SwitchbackTest", "cluster_design", "cluster_ttest",
        "complier_effect", "design_effect", "interaction_power", "interaction_test",
        "simulate_switchback", "switchback_test",
    ),
    "multiple": (
        "ErrorRates", "MultipleTests", "SimulatedVariants", "adjust_pvalues", "error_rates",
        "multiple_tests", "simulate_many_variants", "simulate_pvalues",
    ),
    "novelty": (
        "DailyEffects", "DecayFit", "ExposureEffects", "SimulatedDailyEffects", "SimulatedUserDays",
        "TrendTest", "TrendTestPower", "clustered_daily_effects", "daily_effects",
        "exposure_effects", "fit_decay", "simulate_daily_effects", "simulate_user_days",
        "trend_test", "trend_test_power", "window_effects",
    ),
    "power": (
        "duration_days", "mde_proportions", "power_means", "power_proportions",
        "sample_size_means", "sample_size_proportions",
    ),
    "segments": (
        "Heterogeneity", "SegmentEffects", "Shrinkage", "heterogeneity_test",
        "segment_effects_means", "segment_effects_proportions", "shrink_effects",
    ),
    "sequential": (
        "CrossingProbabilities", "DesignCharacteristics", "GroupSequentialDesign",
        "MixtureSPRT", "PeekingSimulation", "SequentialAnalysis", "alpha_spending",
        "boundaries", "compare_designs", "crossing_probabilities", "design_characteristics",
        "msprt", "peeking_false_positive_rate", "replay_streams", "sequential_analysis",
        "simulate_peeking", "simulate_z_streams",
    ),
    "simulate": (
        "DelayedEvents", "EventTruth", "SimulatedConversions", "SimulatedEvents",
        "add_bots", "delay_events", "duplicate_events", "lose_events",
        "mislabel_local_time", "simulate_conversions", "simulate_events",
    ),
    "spec": (
        "ExperimentSpec", "Guardrail", "Metric",
    ),
    "srm": (
        "SRMFalseAlarms", "SRMMonitor", "SRMTest", "srm_false_alarm_rate", "srm_monitor",
        "srm_test",
    ),
    "uplift": (
        "QiniCurve", "TargetingGain", "UpliftData", "design_matrix", "fit_ols",
        "qini_coefficient", "qini_curve", "s_learner", "simulate_uplift_data", "t_learner",
        "targeting_gain",
    ),
    "validation": (
        "ERROR_RATE_CHECKS", "PUBLISHED_CHECKS", "ErrorRateCheck", "PublishedCheck",
        "error_rate_checks", "published_checks", "published_numbers", "run_error_rate_check",
        "runs_to_resolve",
    ),
    "variance": (
        "CupedAdjustment", "CupedTest", "cuped_adjust", "cuped_test",
    ),
    "viz": (
        "confidence_sequence", "effect_over_time", "forest_plot", "guardrail_status",
        "metric_over_time", "sequential_monitor", "srm_panel",
    ),
}

_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

_SUBMODULES = frozenset(_EXPORTS)

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"abteach.{module}"), name)
    elif name in _SUBMODULES:  # abt.srm.DEFAULT_THRESHOLD and the like
        value = importlib.import_module(f"abteach.{name}")
    else:
        raise AttributeError(f"module 'abteach' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
