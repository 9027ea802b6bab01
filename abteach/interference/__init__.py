"""When units interact (chapter 16): designs and analyses beyond the independent user.

=========================================  ===============  ====================================
function                                   module           question
=========================================  ===============  ====================================
:func:`design_effect`                      ``clusters``     how much does clustering inflate
                                                            the variance?
:func:`cluster_design`                     ``clusters``     how many clusters per arm?
:func:`cluster_ttest`                      ``clusters``     analysis with the cluster as unit
:func:`switchback_test`                    ``switchback``   analysis of a switchback by period
:func:`simulate_switchback`                ``switchback``   switchbacks with autocorrelation
                                                            and carry-over
:func:`interaction_test`                   ``interaction``  do two concurrent experiments
                                                            interact?
:func:`interaction_power`                  ``interaction``  power of that test
:func:`complier_effect`                    ``compliance``   intention to treat vs the effect on
                                                            compliers (Wald / IV)
=========================================  ===============  ====================================

The sample size of a ratio metric (:func:`~abteach.inference.sample_size_ratio`) lives with
the ratio test in :mod:`abteach.inference.ratio`.
"""

from abteach.interference.clusters import (
    CLUSTER_METHODS,
    ClusterDesign,
    ClusterTest,
    cluster_design,
    cluster_ttest,
    design_effect,
)
from abteach.interference.compliance import ComplierEffect, complier_effect
from abteach.interference.interaction import InteractionTest, interaction_power, interaction_test
from abteach.interference.switchback import (
    SWITCHBACK_METHODS,
    SimulatedSwitchback,
    SwitchbackTest,
    simulate_switchback,
    switchback_test,
)

__all__ = [
    "CLUSTER_METHODS",
    "SWITCHBACK_METHODS",
    "ClusterDesign",
    "ClusterTest",
    "ComplierEffect",
    "InteractionTest",
    "SimulatedSwitchback",
    "SwitchbackTest",
    "cluster_design",
    "cluster_ttest",
    "complier_effect",
    "design_effect",
    "interaction_power",
    "interaction_test",
    "simulate_switchback",
    "switchback_test",
]
