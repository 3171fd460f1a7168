"""csc-outcomes: outcome measures and reports for English children's social care.

The package follows one-way flow: ingest -> warehouse -> measures -> notebooks ->
render -> publish. Each subpackage reads what the step before it wrote.
"""

__version__ = "0.1.0"
