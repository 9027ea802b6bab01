"""Sequential testing: the cost of peeking, group-sequential boundaries and always-valid inference.

An experiment whose dashboard is checked every day and stopped at the first "significant" day
does not have the false-positive rate its p-value promises: the z-statistic of accumulating data
is a random walk, and a random walk that is given many chances to cross 1.96 eventually does.
Testing at two-sided 5% after each of K equally sized batches under H0 gives an overall
false-positive rate of 8.3% (K = 2), 14.2% (K = 5), 19.3% (K = 10) and 37.4% (K = 100)
(:func:`peeking_false_positive_rate`; Armitage, McPherson & Rowe 1969), not 1 - 0.95^K, which
would treat the looks as independent.

Three honest ways to look early:

* **Group-sequential boundaries** (:func:`boundaries`): plan the looks, and reject at look k
  only when abs(Z_k) >= b_k, with critical values b_k chosen so that the chance of ever crossing
  under H0 is exactly alpha. Pocock (1977) uses one constant; O'Brien & Fleming (1979) use
  b_k = C sqrt(K / k), very strict early and close to the fixed-design value at the end.
* **Alpha spending** (Lan & DeMets 1983): a spending function alpha(t) says how much of the
  type I error may be used up by information fraction t; b_k is solved look by look, so the
  number and timing of the looks need not be fixed in advance.
* **Always-valid inference** (:func:`msprt`; Johari, Koomen, Pekelis & Walsh 2022): a mixture
  sequential probability ratio test gives p-values and confidence intervals that stay valid
  however often, and whenever, one looks, at a price in power.

Conventions
-----------
Z_k is the z-statistic (treatment minus control) at look k, computed from all data so far; t_k
is the information fraction: the share of the *planned* maximum sample size (for a difference
in means or proportions), in (0, 1] for a design; when monitoring, the final look may over-run
it (t_K > 1, :func:`sequential_analysis` then spends all the alpha left). Under an
alternative, E[Z_k] = drift * sqrt(t_k): the **drift** is the expected z-statistic at full
information, delta / SE(delta-hat at t = 1).
Two-sided designs spend alpha/2 per side, symmetrically (the convention of gsDesign, rpact and
ldbounds): reject H0 at look k when abs(Z_k) >= b_k. One-sided designs (``alternative="larger"``
or ``"smaller"``) spend the whole alpha on one side and reject when Z_k >= b_k (or
Z_k <= -b_k).

Every probability is computed by the recursive numerical integration of Armitage, McPherson &
Rowe (1969) in the form of Jennison & Turnbull (2000, ch. 19), accurate to about 1e-9 whatever
the number of looks (private module ``abteach.sequential._recursion``, whose docstring gives
the method and its quadrature).

Modules
-------
==================================  ========================================================
module                              contents
==================================  ========================================================
``peeking``                         :func:`peeking_false_positive_rate`,
                                    :func:`simulate_peeking`, :func:`simulate_z_streams`
``spending``                        :func:`alpha_spending` (Lan-DeMets, Hwang-Shih-DeCani,
                                    power family)
``boundaries``                      :func:`boundaries`, :func:`crossing_probabilities`,
                                    :func:`design_characteristics`
``monitoring``                      :func:`sequential_analysis` of a running experiment
``always_valid``                    :func:`msprt`, the mixture SPRT
``compare``                         :func:`compare_designs`, all rules side by side
``replay``                          :func:`replay_streams`, the rules on recorded streams
==================================  ========================================================

References
----------
Armitage, P., McPherson, C. K. & Rowe, B. C. (1969), Repeated significance tests on
accumulating data, *JRSS A* 132, 235-244.
Pocock, S. J. (1977), Group sequential methods in the design and analysis of clinical trials,
*Biometrika* 64, 191-199.
O'Brien, P. C. & Fleming, T. R. (1979), A multiple testing procedure for clinical trials,
*Biometrics* 35, 549-556.
Lan, K. K. G. & DeMets, D. L. (1983), Discrete sequential boundaries for clinical trials,
*Biometrika* 70, 659-663.
Hwang, I. K., Shih, W. J. & DeCani, J. S. (1990), Group sequential designs using a family of
type I error probability spending functions, *Statistics in Medicine* 9, 1439-1445.
Jennison, C. & Turnbull, B. W. (2000), *Group Sequential Methods with Applications to Clinical
Trials*, Chapman & Hall/CRC: ch. 2 (Tables 2.1, 2.3), ch. 7 (spending functions), ch. 19
(numerical computations).
Johari, R., Koomen, P., Pekelis, L. & Walsh, D. (2022), Always valid inference: continuous
monitoring of A/B tests, *Operations Research* 70, 1806-1821 (arXiv 1512.04922, 2017).
Howard, S. R., Ramdas, A., McAuliffe, J. & Sekhon, J. (2021), Time-uniform, nonparametric,
nonasymptotic confidence sequences, *Annals of Statistics* 49, 1055-1080.
Robbins, H. (1970), Statistical methods related to the law of the iterated logarithm, *Annals
of Mathematical Statistics* 41, 1397-1409.
"""

from abteach.sequential._checks import (
    MAX_DRIFT,
    MAX_LOOKS,
    MAX_OVERRUN,
    MIN_ALPHA,
    MIN_INFORMATION_STEP,
)
from abteach.sequential._recursion import MIN_SPEND
from abteach.sequential.always_valid import MixtureSPRT, msprt
from abteach.sequential.boundaries import (
    CrossingProbabilities,
    DesignCharacteristics,
    GroupSequentialDesign,
    boundaries,
    crossing_probabilities,
    design_characteristics,
)
from abteach.sequential.compare import compare_designs
from abteach.sequential.monitoring import SequentialAnalysis, sequential_analysis
from abteach.sequential.peeking import (
    PeekingSimulation,
    peeking_false_positive_rate,
    simulate_peeking,
    simulate_z_streams,
)
from abteach.sequential.replay import replay_streams
from abteach.sequential.spending import CLASSIC_METHODS, METHODS, SPENDING_METHODS, alpha_spending

__all__ = [
    "CLASSIC_METHODS",
    "MAX_DRIFT",
    "MAX_LOOKS",
    "MAX_OVERRUN",
    "METHODS",
    "MIN_ALPHA",
    "MIN_INFORMATION_STEP",
    "MIN_SPEND",
    "SPENDING_METHODS",
    "CrossingProbabilities",
    "DesignCharacteristics",
    "GroupSequentialDesign",
    "MixtureSPRT",
    "PeekingSimulation",
    "SequentialAnalysis",
    "alpha_spending",
    "boundaries",
    "compare_designs",
    "crossing_probabilities",
    "design_characteristics",
    "msprt",
    "peeking_false_positive_rate",
    "replay_streams",
    "sequential_analysis",
    "simulate_peeking",
    "simulate_z_streams",
]
