"""``python -m csc_outcomes`` is the same as the ``csc-outcomes`` command."""

import sys

from csc_outcomes.cli import main

sys.exit(main())
