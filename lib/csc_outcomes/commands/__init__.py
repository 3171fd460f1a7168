"""Step 9, the commands: one module per ``csc-outcomes`` subcommand, gathered by ``cli``.

In: the command line. Out: an exit code (0 done, 1 the data or a run failed, 2 a usage
error). Each module exposes ``add_parser(subparsers)``, which registers its options and
``--help`` and sets ``func``; the module wires the steps together and holds no logic of
its own. Modules import their step lazily so that ``csc-outcomes --help`` stays fast.
"""
