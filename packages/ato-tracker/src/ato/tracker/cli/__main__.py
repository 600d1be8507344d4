"""``python -m ato.tracker.cli``: the same as the ``ato`` console script."""

import sys

from .app import main

sys.exit(main())
