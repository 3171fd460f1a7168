"""``python -m csc_outcomes`` is the same as the ``csc-outcomes`` command."""

import sys

from csc_outcomes.cli import main

if __name__ == "__main__":  # not when a worker process (``spawn``) imports it
    sys.exit(main())
