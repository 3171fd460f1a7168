"""Reporting: the measures table and the warehouse in, published reports out.

In: ``data/measures.csv`` (the measures step's table) and the warehouse (for the
pooled models and the leak scan's child identifiers), the notebooks in ``notebooks/``
and the settings in ``parameters/``. Out: ``reports/<period>/<la>/<notebook>.html|.pdf``,
``reports/<period>/manifest.json`` and ``reports/index.html``; executed notebooks stay
in ``restricted/``.

A run (``run.run(RunConfig)``) is a sequence of stages::

    config.RunConfig --plan.prepare-----------> RunPlan (paths, LAs, notebooks, run id;
                                                the period's measures ensured)
      --stages.fit_pooled_models-------------> restricted/cache/models/<key>.pkl (or found there)
      --stages.execute_notebooks (papermill)--> restricted/<period>/<la>/<notebook>.ipynb
      --stages.render------------------------> staging (outside reports/)
      --stages.stage_manifest, leak_scan-----> nothing published on a hit
      --stages.publish-----------------------> reports/<period>/..., manifest.json, index.html

The notebooks call ``context`` (the ``ReportView`` of an LA's figures), ``plots``,
``disclosure`` and ``pooled`` (the pooled models, read from the model cache). Rendering uses Quarto when
``quarto`` is on PATH (``render_quarto``), else the built-in renderer
(``render_builtin``); both read the notebook's front matter (``frontmatter``).
``reproduce`` re-runs a run from its ``manifest`` and compares.
"""
