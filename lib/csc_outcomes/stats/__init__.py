"""Statistics for the reports: funnel limits, modelling frames and the three models.

* :mod:`.funnel` - funnel limits for proportions (Spiegelhalter 2005), with
  multiplicative or additive (DerSimonian-Laird) overdispersion.
* :mod:`.frames` - pure functions building modelling frames from canonical tables.
* :mod:`.proportionality` - ordered logit of level of intervention on assessment
  factors, odds ratios, and the observed-vs-predicted ("proportionality") view.
* :mod:`.rereferral` - logit of re-referral within 12 months on level and length.
* :mod:`.stability` - OLS of school attendance on placement moves, clustered by child.

Model outputs are child-level summaries: pass any table of counts through
:mod:`csc_outcomes.reporting.disclosure` before publishing it.
"""

from csc_outcomes.stats.funnel import FunnelResult, funnel_limits, limits_on_grid, measure_funnel

__all__ = ["FunnelResult", "funnel_limits", "limits_on_grid", "measure_funnel"]
