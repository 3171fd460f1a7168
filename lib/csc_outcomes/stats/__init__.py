"""Statistics for the reports: funnel limits and three models.

In: the tidy measures table (funnel limits across LAs, :func:`.funnel.measure_funnel`)
and the canonical tables, a ``{name: DataFrame}`` mapping or ``MeasureInputs``
(modelling frames, :mod:`.frames`). Out: DataFrames and fitted models, in memory.

* :mod:`.funnel` - funnel limits for proportions (Spiegelhalter 2005), with
  multiplicative or additive (DerSimonian-Laird) overdispersion.
* :mod:`.frames` - pure functions building modelling frames from canonical tables.
* :mod:`.proportionality` - ordered logit of level of intervention on assessment
  factors, odds ratios, and the observed-vs-predicted ("proportionality") view.
* :mod:`.rereferral` - logit of re-referral within 12 months on level and length.
* :mod:`.stability` - OLS of school attendance on placement moves, clustered by child.
* :mod:`.summary` - coefficient tables shared by the three models.

Frames are child-level and model outputs are summaries of children: pass any table of
counts through :mod:`csc_outcomes.reporting.disclosure` before publishing it.
"""

from csc_outcomes.stats.funnel import FunnelResult, funnel_limits, limits_on_grid, measure_funnel

__all__ = ["FunnelResult", "funnel_limits", "limits_on_grid", "measure_funnel"]
