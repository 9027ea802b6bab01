r"""Section 15.1: capping (winsorizing) a heavy-tailed metric at a threshold fixed in advance.

Capping replaces every value above a threshold :math:`c` by :math:`c` (and, optionally, every
value below a floor by the floor). The threshold must come from data that the treatment
cannot have changed in a way that favors one arm: the pre-period, or the pooled data of both
arms, and the SAME threshold is applied to both arms. The capped metric has a smaller variance
(the point), a different mean (the bias) and a different estimand: the test then asks whether
the treatment moved :math:`E\min(Y, c)`, not :math:`E\,Y`.
"""

from __future__ import annotations

import numpy as np

from abteach._validate import (
    as_float_array,
    broadcast,
    check_open_unit,
    check_scalar,
    first_bad,
    scalar_or_array,
)

__all__ = ["cap_threshold", "winsorize"]


def cap_threshold(reference, quantile: float = 0.99):
    r"""The capping threshold: a quantile of reference data (pre-period, or both arms pooled).

    .. math:: c = \hat F^{-1}_{\text{ref}}(q),

    the empirical ``quantile`` q of the reference values (linear interpolation, numpy's
    default). Fix it BEFORE comparing the arms and pass the same c for both arms to
    :func:`winsorize`.

    Parameters
    ----------
    reference : array of float
        Values the treatment cannot bias, along the last axis (at least 2): the metric in the
        pre-period, or the pooled values of both arms. Leading axes are separate experiments.
    quantile : float
        The level q, in (0, 1); 0.99 by default.

    Returns
    -------
    float or numpy.ndarray
        One threshold per experiment.

    References
    ----------
    Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
    Cambridge University Press (capping to reduce variance).

    Examples
    --------
    >>> cap_threshold([1.0, 2.0, 3.0, 4.0, 100.0], quantile=0.5)
    3.0
    """
    values = as_float_array("reference", reference)
    if values.ndim == 0 or values.shape[-1] < 2:
        raise ValueError(f"reference must hold at least 2 values along its last axis, got "
                         f"shape {values.shape}")
    level = check_scalar("quantile", check_open_unit("quantile", quantile))
    return scalar_or_array(np.quantile(values, level, axis=-1))


def winsorize(values, upper, lower=None) -> np.ndarray:
    r"""Cap values at ``upper`` (and floor them at ``lower``): :math:`\min(\max(y, l), c)`.

    Parameters
    ----------
    values : array of float
        The metric, any shape.
    upper : float or array of float
        The threshold c, e.g. from :func:`cap_threshold` on pre-period or pooled data;
        an array broadcasts against ``values`` (one threshold per experiment: ``c[..., None]``).
    lower : float or array of float, optional
        A floor l <= c (none by default: spend is never negative).

    Returns
    -------
    numpy.ndarray
        The capped values.

    References
    ----------
    Dixon, W. J. (1960), Simplified estimation from censored normal samples, *Annals of
    Mathematical Statistics* 31, 385-391 (the winsorized mean). Kohavi, Tang & Xu (2020).

    Examples
    --------
    >>> winsorize([1.0, 5.0, 250.0], upper=100.0).tolist()
    [1.0, 5.0, 100.0]
    """
    y = as_float_array("values", values)
    c = as_float_array("upper", upper)
    if lower is None:
        y, c = broadcast(values=y, upper=c)
        return np.minimum(y, c)
    floor = as_float_array("lower", lower)
    y, c, floor = broadcast(values=y, upper=c, lower=floor)
    above = floor > c
    if above.any():
        raise ValueError(f"lower must be at most upper, got lower {first_bad(floor, above)} "
                         f"above upper {first_bad(c, above)}")
    return np.clip(y, floor, c)
