"""CLI subcommands, one module each (see ``csc_outcomes.cli``)."""
