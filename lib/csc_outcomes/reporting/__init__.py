"""Reporting: papermill runs, renderers, site index, run manifest, reproduce.

The flow of a run (``run.run_reports``)::

    notebooks/*.ipynb --papermill--> restricted/<period>/<la>/<notebook>.ipynb   (executed)
                      --render-----> staging (outside reports/)  --leak scan-->
                      --move-------> reports/<period>/<la>/<notebook>.html|.pdf
                      manifest ----> reports/<period>/manifest.json
                      index -------> reports/index.html

Rendering uses Quarto when ``quarto`` is on PATH (``render_quarto``), else the built-in
renderer (``render_builtin``: nbconvert for HTML, nbconvert -> markdown -> pandoc ->
Typst for PDF). Both read the notebook's front matter from its raw first cell
(``frontmatter``).
"""
