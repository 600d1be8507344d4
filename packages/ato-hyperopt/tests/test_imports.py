from __future__ import annotations

import subprocess
import sys


def test_import_pulls_in_no_heavy_or_optional_dependency() -> None:
    code = (
        "import sys, ato.hyperopt, ato.hyperopt.base, ato.hyperopt.hyperband\n"
        "heavy = [m for m in ('torch', 'numpy', 'omegaconf', 'ato.scope', 'ato.tracker', 'tqdm', 'yaml')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_seed_import_paths() -> None:
    from ato.hyperopt.base import DistributedMixIn, GridSpaceMixIn, HyperOpt
    from ato.hyperopt.hyperband import DistributedHyperBand, HyperBand

    assert issubclass(HyperBand, HyperOpt) and issubclass(HyperBand, GridSpaceMixIn)
    assert issubclass(DistributedHyperBand, DistributedMixIn)
    assert issubclass(DistributedHyperBand, HyperBand)
