"""``python -m ato.dashboard``: the same as ``ato dashboard``."""

import sys

from .cli import main

sys.exit(main())
