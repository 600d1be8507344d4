"""Loading config files: ato's checked readers against the bare parsers and OmegaConf.

ato's readers add duplicate-key, depth, alias-expansion and digit checks on top of the
parsers (see ``ato.adict.limits``); this prints what that costs on an ordinary config, and
how long a 236-byte YAML alias bomb takes to be refused.
"""

from __future__ import annotations

import json
import pathlib
import sys
import tempfile
import time

import yaml
from omegaconf import OmegaConf
from timing import median_ms

from ato.adict import ConfigFileError, dump_file, load_file


def config(entries: int) -> dict[str, object]:
    """A config of ``entries`` groups, each a small nested mapping with a list."""
    return {
        f"group{i}": {"lr": 1e-3 * i, "layers": [i, i + 1, 64], "opt": {"name": "adam", "wd": 0}}
        for i in range(entries)
    }


def bomb() -> str:
    """The reproducer of issue 15: 7 levels of 9 aliases each (about 6 million values)."""
    return "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdef", "bcdefg", strict=True)
    )


def main() -> None:
    folder = pathlib.Path(tempfile.mkdtemp(prefix="ato-bench-files-"))
    data = config(500)
    rows = []
    for fmt, parse in (("json", json.loads), ("yaml", yaml.safe_load)):
        path = folder / f"c.{fmt}"
        dump_file(data, path)
        bare = median_ms(lambda parse=parse, path=path: parse(path.read_text()), repeats=7)
        ours = median_ms(lambda path=path: load_file(path), repeats=7)
        peer = median_ms(lambda path=path: OmegaConf.load(path), repeats=7)
        rows.append((fmt, bare, ours, peer))
    print(f"Python {sys.version.split()[0]}; median ms of 7 loads of a 500-group config")
    print("(parser = json.loads / yaml.safe_load of the file's text; OmegaConf reads YAML)")
    print(f"{'format':<8}{'parser':>10}{'ato load_file':>16}{'OmegaConf.load':>16}")
    for fmt, bare, ours, peer in rows:
        print(
            f"{fmt:<8}{bare:>10.1f}{ours:>9.1f} ({ours / bare:.2f}x)"
            f"{peer:>9.1f} ({peer / bare:.2f}x)"
        )
    path = folder / "bomb.yaml"
    path.write_text(bomb())
    start = time.perf_counter()
    try:
        load_file(path)
    except ConfigFileError:
        pass
    print(f"{len(bomb())}-byte alias bomb refused in {(time.perf_counter() - start) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
