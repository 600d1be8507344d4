"""prune_checkpoints on a disk other ranks share: it keeps the best trials' folders, deletes
the rest, and a search folder that vanishes while it looks (another rank released the
search) is nothing to prune, not an error (it failed a 3-rank search now and then)."""

from __future__ import annotations

import pathlib

import pytest

from ato.hyperopt.checkpoints import prune_checkpoints


def _folders(root: pathlib.Path, trials: list[int]) -> pathlib.Path:
    for trial in trials:
        (root / f"trial-{trial}").mkdir(parents=True)
        (root / f"trial-{trial}" / "state.pt").write_bytes(b"x")
    return root


def test_keeps_the_first_ranked_trials_and_deletes_the_rest(tmp_path: pathlib.Path) -> None:
    search = _folders(tmp_path / "s1", [0, 1, 2, 3])
    removed = prune_checkpoints(search, [2, 0, 3, 1], keep=2)
    assert sorted(p.name for p in removed) == ["trial-1", "trial-3"]
    assert sorted(p.name for p in search.iterdir()) == ["trial-0", "trial-2"]


def test_keep_none_deletes_nothing(tmp_path: pathlib.Path) -> None:
    search = _folders(tmp_path / "s1", [0, 1])
    assert prune_checkpoints(search, [1, 0], keep=None) == []
    assert sorted(p.name for p in search.iterdir()) == ["trial-0", "trial-1"]


@pytest.mark.parametrize("vanish", ["before", "while-listing"])
def test_a_search_folder_that_vanishes_is_nothing_to_prune(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, vanish: str
) -> None:
    search = _folders(tmp_path / "s1", [0, 1])
    if vanish == "before":
        search = tmp_path / "gone"
    else:

        def listing_fails(self: pathlib.Path, pattern: str):  # scandir of a removed folder
            raise FileNotFoundError(2, "No such file or directory", str(self))

        monkeypatch.setattr(pathlib.Path, "glob", listing_fails)
    assert prune_checkpoints(search, [0], keep=1) == []
