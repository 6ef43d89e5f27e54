"""``python -m coverage_gap``: the same as the ``coverage-gap`` command."""

import sys

from .cli import main

sys.exit(main())
