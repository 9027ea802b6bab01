r"""Switchback experiments (chapter 16): the whole market alternates between the arms.

When every unit interacts with every other (riders and drivers of one city, one pricing
engine), no split of the units is clean. A switchback design assigns whole time periods
(an hour, a day) at random to treatment or control; the period is the experimental unit.
Two things decide its validity: **carry-over** (a period still feels the previous period's
arm: queues, prices, learned behaviour) and the **analysis unit** (slots within a period
are correlated, so the test must compare periods, not slots). Bojinov, Simchi-Levi & Zhao
(2023) give the design theory; this module gives the period-level analysis with a burn-in
(the first slots of each period, where the previous arm still acts, are dropped) and a
simulator with autocorrelated noise and a known carry-over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from abteach._records import Record
from abteach._validate import (
    as_float_array,
    as_generator,
    check_alpha,
    check_alternative,
    check_choice,
    check_int,
    check_scalar,
    check_work,
    scalar_or_array,
)
from abteach.interference._private import last_axis, refuse_flat, wald

__all__ = [
    "SWITCHBACK_METHODS", "SimulatedSwitchback", "SwitchbackTest", "simulate_switchback",
    "switchback_test",
]

SWITCHBACK_METHODS = ("period", "naive")


@dataclass(frozen=True, repr=False, eq=False)
class SwitchbackTest(Record):
    """Result of :func:`switchback_test`; ``effect`` is treatment minus control."""

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    effect: float | np.ndarray
    se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    df: float | np.ndarray
    periods: int
    burn_in: int
    method: str
    alternative: str
    alpha: float


def _assignment(treated, periods: int, lead: tuple) -> np.ndarray:
    w = as_float_array("treated", treated)
    if w.ndim == 0 or w.shape[-1] != periods:
        raise ValueError(f"treated must hold one 0/1 value per period ({periods} along its "
                         f"last axis), got shape {w.shape}")
    if not np.isin(w, (0.0, 1.0)).all():
        raise ValueError(f"treated must hold 0 (control) or 1 (treatment), got "
                         f"{w[~np.isin(w, (0.0, 1.0))].flat[0]!r}")
    try:
        np.broadcast_shapes(w.shape[:-1], lead)
    except ValueError:
        raise ValueError(f"treated and outcome must have leading axes (experiments) that "
                         f"broadcast, got shapes {w.shape} and {lead + (periods,)}") from None
    few = np.minimum(w.sum(axis=-1), periods - w.sum(axis=-1)) < 2
    if few.any():
        raise ValueError("treated must give each arm at least 2 periods in every experiment, "
                         f"got {int(w.sum(axis=-1).flat[np.argmax(few.ravel())])} treated "
                         f"periods of {periods}")
    return w


def _masked_welch(values: np.ndarray, w: np.ndarray):
    """Welch difference (w = 1 minus w = 0) along the last axis, with its SE and df."""
    parts = []
    for mask in (1 - w, w):
        n = mask.sum(axis=-1)
        mean = (mask * values).sum(axis=-1) / n
        var = (mask * (values - mean[..., None]) ** 2).sum(axis=-1) / (n - 1) / n
        parts.append((mean, var, n))
    (m_c, v_c, n_c), (m_t, v_t, n_t) = parts
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (v_c + v_t) ** 2 / (v_c**2 / (n_c - 1) + v_t**2 / (n_t - 1))
    return m_t - m_c, np.sqrt(v_c + v_t), df


def switchback_test(outcome, treated, *, burn_in=0, method="period",
                    alternative="two-sided", alpha=0.05) -> SwitchbackTest:
    r"""Analyze a switchback experiment at the level of its periods.

    ``outcome`` holds one value per time slot (an hour's orders per minute, say), P periods
    of L slots each laid end to end along the last axis; ``treated`` holds the arm of each
    period. With ``method="period"`` each period is summarized by the mean of its slots after
    the first ``burn_in`` (carry-over from the previous period's arm lives there),

    .. math:: \bar y_p = \frac{1}{L - b} \sum_{s = b + 1}^{L} y_{p, s},

    and the treated and control periods are compared by Welch's t-test, periods being the
    independent units (randomization of whole periods; the period-level, burn-in-trimmed
    analysis; Bojinov, Simchi-Levi & Zhao 2023 derive the minimax optimal design for a
    carry-over of known order, with exact randomization p-values and conservative intervals).

    ``method="naive"`` is the common mistake, kept for teaching: a Welch test on all slots as
    if they were independent. Slots of one period share its noise (autocorrelation), so
    this understates the standard error and rejects a true null far too often.

    Parameters
    ----------
    outcome : array of float
        Slot-level outcomes, shape (..., P * L); leading axes are separate experiments.
    treated : array of 0/1
        Arm of each period, shape (..., P), at least 2 periods per arm.
    burn_in : int
        Slots dropped at the start of every period, 0 <= burn_in < L.
    method : {"period", "naive"}
    alternative : {"two-sided", "larger", "smaller"}
    alpha : float

    Returns
    -------
    SwitchbackTest

    References
    ----------
    Bojinov, I., Simchi-Levi, D. & Zhao, J. (2023), Design and analysis of switchback
    experiments, *Management Science* 69(7), 3759-3777.
    """
    method = check_choice("method", method, SWITCHBACK_METHODS)
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    y = last_axis("outcome", as_float_array("outcome", outcome), 4)
    w_shape = np.shape(treated)
    periods = w_shape[-1] if len(w_shape) else 0
    if periods < 4 or y.shape[-1] % periods:
        raise ValueError(f"treated must hold one value per period, at least 4 periods, and "
                         f"outcome's last axis ({y.shape[-1]} slots) must be a whole number "
                         f"of periods; got treated of shape {w_shape}")
    length = y.shape[-1] // periods
    burn = check_int("burn_in", burn_in, minimum=0)
    if burn >= length:
        raise ValueError(f"burn_in must be below the period length, the {y.shape[-1]} slots of "
                         f"outcome over the {periods} periods of treated = {length}, got "
                         f"{burn_in!r}")
    w = _assignment(treated, periods, y.shape[:-1])
    kept = y.reshape(y.shape[:-1] + (periods, length))[..., burn:]
    with np.errstate(over="ignore", invalid="ignore"):
        if method == "period":
            effect, se, df = _masked_welch(kept.mean(axis=-1), w)
        else:
            slots = np.broadcast_to(w[..., None], w.shape + (length - burn,))
            effect, se, df = _masked_welch(
                kept.reshape(kept.shape[:-2] + (-1,)),
                slots.reshape(slots.shape[:-2] + (-1,)))
    refuse_flat(np.where(np.isfinite(effect), se, np.inf), "outcome and treated")
    return SwitchbackTest(
        **wald(effect, se, alternative, alpha, df), effect=scalar_or_array(effect),
        df=scalar_or_array(df), periods=periods, burn_in=burn, method=method,
        alternative=alternative, alpha=alpha,
    )


@dataclass(frozen=True, repr=False, eq=False)
class SimulatedSwitchback(Record):
    """Result of :func:`simulate_switchback`: slot outcomes and the arm of each period."""

    outcome: np.ndarray
    treated: np.ndarray
    effect: float
    carryover: int
    autocorrelation: float


def simulate_switchback(periods, period_length, *, effect=0.0, carryover=0,
                        autocorrelation=0.0, sd=1.0, runs=1, rng) -> SimulatedSwitchback:
    r"""Simulate switchback experiments with autocorrelated noise and carry-over.

    Half of the ``periods`` (rounded down) are treated, chosen at random in each run. Slot s
    receives the treatment effect in proportion to the share of treated slots among the
    last ``carryover + 1`` (itself and the c before it), so after a switch the effect needs
    c slots to settle: a burn-in of at least c slots removes the carry-over exactly. The
    noise is a stationary AR(1) series with standard deviation ``sd`` and lag-one
    correlation :math:`\phi` = ``autocorrelation``:

    .. math:: y_s = \tau\,\frac{1}{c + 1}\sum_{j=0}^{c} w_{s-j} + e_s, \qquad
              e_s = \phi\,e_{s-1} + \sigma\sqrt{1 - \phi^2}\,z_s.

    Parameters
    ----------
    periods : int
        Number of periods, 4 to 10,000.
    period_length : int
        Slots per period, 1 to 10,000.
    effect : float
        True effect per slot once settled (tau).
    carryover : int
        Slots the effect needs to settle after a switch (c), 0 <= c < period_length.
    autocorrelation : float
        phi in (-1, 1).
    sd : float
        Standard deviation of the noise (> 0).
    runs : int
        Independent experiments (leading axis of the arrays), 1 to 1,000,000.
    rng : numpy.random.Generator or int

    Returns
    -------
    SimulatedSwitchback
        ``outcome`` of shape (runs, periods * period_length), ``treated`` (runs, periods).

    References
    ----------
    Bojinov, I., Simchi-Levi, D. & Zhao, J. (2023), Design and analysis of switchback
    experiments, *Management Science* 69(7), 3759-3777.
    """
    periods = check_int("periods", periods, minimum=4, maximum=10_000)
    length = check_int("period_length", period_length, minimum=1, maximum=10_000)
    carry = check_int("carryover", carryover, minimum=0, maximum=length - 1)
    runs = check_int("runs", runs, minimum=1, maximum=1_000_000)
    check_work("runs * periods * period_length", 3.0 * runs * periods * length)
    tau = check_scalar("effect", as_float_array("effect", effect))
    phi = check_scalar("autocorrelation", as_float_array("autocorrelation", autocorrelation))
    if not -1 < phi < 1:
        raise ValueError(f"autocorrelation must be in (-1, 1), got {autocorrelation!r}")
    sigma = check_scalar("sd", as_float_array("sd", sd))
    if sigma <= 0:
        raise ValueError(f"sd must be > 0, got {sd!r}")
    gen = as_generator(rng)
    order = np.argsort(gen.random((runs, periods)), axis=-1)
    treated = (order < periods // 2).astype(float)
    slots = np.repeat(treated, length, axis=-1)
    cumulative = np.concatenate([np.zeros((runs, 1)), np.cumsum(slots, axis=-1)], axis=-1)
    start = np.maximum(np.arange(slots.shape[-1]) - carry, 0)
    window = np.arange(slots.shape[-1]) + 1 - start
    share = (cumulative[:, 1:] - cumulative[:, start]) / window
    shocks = gen.standard_normal(slots.shape) * sigma
    shocks[:, 1:] *= np.sqrt(1 - phi**2)
    noise = signal.lfilter([1.0], [1.0, -phi], shocks, axis=-1)
    return SimulatedSwitchback(outcome=tau * share + noise, treated=treated, effect=tau,
                               carryover=carry, autocorrelation=phi)

