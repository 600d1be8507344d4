"""A run's own directory (``SQLLogger.run_dir``) for checkpoints and outputs, like Hydra's job
directory: ``<root>/<project>/<run id>``.

The root is, in this order: the ``run_root`` given to the logger, ``$ATO_RUN_ROOT``, and
``./ato_runs`` (relative to the working directory when the directory is first asked for).
The project name is made safe as one path part (characters other than letters, digits,
``.``, ``_`` and ``-`` become ``_``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: Environment variable naming the root of the run directories.
RUN_ROOT_ENV = "ATO_RUN_ROOT"
DEFAULT_RUN_ROOT = "ato_runs"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def run_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The absolute root of the run directories (see the module docstring); not created."""
    chosen = root if root is not None else os.environ.get(RUN_ROOT_ENV) or DEFAULT_RUN_ROOT
    return Path(chosen).expanduser().absolute()


def project_part(project: str) -> str:
    """``project`` as one safe path part, e.g. ``'team/a b'`` -> ``'team_a_b'``."""
    part = _UNSAFE.sub("_", project) or "_"
    return "_" * len(part) if set(part) == {"."} else part


def make_run_dir(root: str | os.PathLike[str] | None, project: str, run_id: int) -> Path:
    """Create (if missing) and return ``<root>/<project>/<run_id>``.

    Raises:
        OSError: the directory cannot be created (e.g. no permission under the root).
    """
    path = run_root(root) / project_part(project) / str(int(run_id))
    path.mkdir(parents=True, exist_ok=True)
    return path
