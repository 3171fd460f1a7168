"""Step 4, the measures: canonical tables in, the tidy measures table out.

In: ``inputs.MeasureInputs`` (an ingest result or the warehouse). Out: one row per
LA, period end and measure of the registry (``catalogue``), computed by
``compute.compute_measures`` with pure, vectorised measure functions, and read or
written only through ``table`` (``read``, ``write``, ``ensure_period``). Which period
ends the returns in the inputs cover, the rule ``run``, ``measures`` and the schedules
apply, is ``coverage``.
"""
