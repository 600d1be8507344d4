"""``from_tensorboard`` / ``ato import tensorboard`` on logs written by
``torch.utils.tensorboard.SummaryWriter``."""

from __future__ import annotations

import io
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import torch
from stored import points, row_counts, stored_runs
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.compat.tensorflow_stub import errors
from tensorboard.util import tensor_util
from torch.utils.tensorboard import SummaryWriter

from ato.tracker.cli import main
from ato.tracker.importers import ImportSourceError, from_tensorboard, tensorboard_logs


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs ``a`` (two scalar series and a histogram), ``b`` (two event files, one writer
    after the other) and ``a``'s HParams run."""
    root = tmp_path_factory.mktemp("tb") / "logs"
    with SummaryWriter(str(root / "a")) as writer:
        for step in range(60):
            writer.add_scalar("train/loss", 1.0 / (step + 1), step)
            writer.add_scalar("val/acc", step / 61, step * 5)
        writer.add_histogram("weights", torch.tensor([0.1, 0.2, 0.3]), 0)
        writer.add_hparams({"lr": 0.01, "optim": "adam", "layers": 4}, {"hp/acc": 0.75})
    for part in range(2):
        with SummaryWriter(str(root / "b"), filename_suffix=f".{part}") as writer:
            for step in range(part * 10, part * 10 + 10):
                writer.add_scalar("loss", 3.0 - step / 10, step)
    return root


def _tensorboard_view(folder: Path) -> list[tuple[str, float, int, datetime]]:
    """The scalars of ``folder`` as TensorBoard's own loader reads them."""
    found = []
    for path in sorted(p for p in folder.iterdir() if "tfevents" in p.name):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    number = tensor_util.make_ndarray(value.tensor).item()
                    moment = datetime.fromtimestamp(event.wall_time, timezone.utc)
                    found.append((value.tag, number, event.step, moment))
    return found


def _runs_by_dir(db_url: str, project: str = "logs") -> dict[str, Any]:
    return {r.provenance["import"]["directory"]: r for r in stored_runs(db_url, project)}


def test_every_scalar_step_and_wall_time_round_trips(db_url: str, logdir: Path) -> None:
    report = from_tensorboard(logdir, db_url)
    runs = _runs_by_dir(db_url)
    hparams_dir = next(p for p in (logdir / "a").iterdir() if p.is_dir())
    folders = {"a": logdir / "a", "b": logdir / "b", f"a/{hparams_dir.name}": hparams_dir}
    assert sorted(runs) == sorted(folders)
    for name, folder in folders.items():
        expected = _tensorboard_view(folder)
        assert points(runs[name]) == expected
        assert (runs[name].start_time, runs[name].end_time) <= (expected[0][3], expected[-1][3])
        assert runs[name].tags == [f"run:{name}"]
    assert len(points(runs["a"])) == 120 and len(points(runs["b"])) == 20
    assert dict(runs[f"a/{hparams_dir.name}"].config) == {"lr": 0.01, "optim": "adam", "layers": 4}
    assert report.metrics == 141


def test_importing_again_imports_nothing_twice(db_url: str, logdir: Path) -> None:
    from_tensorboard(logdir / "b", db_url, project="logs")
    counts = row_counts(db_url)
    again = from_tensorboard(logdir, db_url)
    assert again.runs == 2 and len(again.skipped) == 1
    assert row_counts(db_url)[1] == counts[1] + 2
    assert from_tensorboard(logdir, db_url).runs == 0


def _copy_with_bad_file(logdir: Path, tmp: Path, damage: Any) -> Path:
    root = tmp / "logs"
    shutil.copytree(logdir, root)
    victim = sorted((root / "b").iterdir())[-1]
    victim.write_bytes(damage(victim.read_bytes()))
    return root


@pytest.mark.parametrize(
    ("make_dir", "message"),
    [
        (lambda logdir, tmp: tmp / "missing", "does not exist"),
        (lambda logdir, tmp: tmp, "no TensorBoard event file"),
        (
            lambda logdir, tmp: _copy_with_bad_file(logdir, tmp, lambda b: b[:30] + b"x" + b[31:]),
            "crc32",
        ),
        (
            lambda logdir, tmp: _copy_with_bad_file(logdir, tmp, lambda b: b[:-3]),
            "truncated record",
        ),
    ],
)
def test_a_bad_source_gives_one_error_and_leaves_the_database_unchanged(
    db_url: str, logdir: Path, tmp_path: Path, make_dir: Any, message: str
) -> None:
    from_tensorboard(logdir / "b", db_url, project="before")
    counts = row_counts(db_url)
    (tmp_path / "notes.txt").write_text("no events here")
    with pytest.raises(ImportSourceError, match=message):
        from_tensorboard(make_dir(logdir, tmp_path), db_url)
    assert row_counts(db_url) == counts


def test_a_file_spoiled_while_importing_takes_back_what_was_written(
    db_url: str, logdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = tensorboard_logs._scalars

    def spoiled(folder: Path) -> Any:
        if folder.name == "b":
            raise errors.DataLossError(None, None, f"{folder}: truncated record")
        return read(folder)

    monkeypatch.setattr(tensorboard_logs, "_scalars", spoiled)
    with pytest.raises(ImportSourceError, match="truncated record"):
        from_tensorboard(logdir, db_url)
    assert row_counts(db_url) == (0, 0, 0)


def test_cli_reports_counts(logdir: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    db = str(tmp_path / "t.db")
    assert main(["import", "tensorboard", str(logdir / "a"), "--db", db], stdout=out) == 0
    assert (
        out.getvalue()
        == "tensorboard: 2 runs, 121 metric values, 0 artifacts imported; 0 skipped\n"
    )
    assert main(["import", "tensorboard", str(tmp_path / "none"), "--db", db]) == 2
