"""Each report's sections: what its notebook shows, worked out once per LA and period.

Why. A report notebook run by papermill pays for its kernel, then for every table, chart
and sentence it works out; a national run has 612 of them. The run's prepare stage
(``stages.prepare_sections``) works the sections out in worker processes that have
already imported pandas and matplotlib and read the shared inputs (the measures, DfE's
published figures, the pooled models), and keeps what each would show
(``outputs``: display bundles) in the run's shared folder; the notebook, given the
file as its ``prepared`` parameter, shows them (:func:`show`) at the cost of a trivial
notebook. Opened in JupyterLab, or run by hand, a notebook has no prepared file and
works each section out itself, through the same functions: the outputs are the same.

One module per report notebook, named after it: its ``SECTIONS``, in the order the
notebook shows them, are functions of a :class:`Report` (the notebook's parameters,
with the view of its measures, the published figures and the models read once).
"""

from csc_outcomes.reporting.sections.prepared import prepare, prepared_path, show
from csc_outcomes.reporting.sections.report import Report

__all__ = ["Report", "prepare", "prepared_path", "show"]
