"""Search over two gloo processes: ASHA's work queue, and resuming an interrupted tracked search,
with the random sampler and with BOHBSampler."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest
import torch  # noqa: F401 - torch.distributed runs these searches

WORKER = pathlib.Path(__file__).with_name("search_dist_worker.py")
WORLD_SIZE = 2


def _torchrun(*args: str) -> None:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={WORLD_SIZE}",
        str(WORKER),
        *args,
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"torchrun failed:\n{proc.stdout}\n{proc.stderr}"


def _outputs(out_dir: pathlib.Path, mode: str) -> list[dict]:
    return [json.loads((out_dir / f"{mode}-rank{r}.json").read_text()) for r in range(WORLD_SIZE)]


@pytest.fixture(scope="module", params=["random", "bohb"])
def asha_outputs(request, tmp_path_factory) -> list[dict]:
    out_dir = tmp_path_factory.mktemp("asha")
    _torchrun("asha", str(out_dir), request.param)
    return _outputs(out_dir, "asha")


def test_asha_over_two_ranks_runs_each_job_once_and_agrees(asha_outputs: list[dict]) -> None:
    first = asha_outputs[0]["result"]
    assert asha_outputs[1]["result"] == first
    jobs = [tuple(job[:2]) for out in asha_outputs for job in out["jobs"]]
    assert len(jobs) == len(set(jobs)) == sum(len(log) for log in first["logs"])
    assert len(first["logs"][0]) == 40  # max_trials started at rung 0
    assert first["budget"] == 27 and first["logs"][-1][0]["__budget__"] == 27
    assert not any(job[4] for out in asha_outputs for job in out["jobs"])  # none only for it
    top = [e for e in first["logs"][-1] if e["__trial_id__"] == first["trial_id"]]
    assert [e["__metric__"] for e in top] == [first["metric"]]


def test_asha_keeps_both_ranks_working_without_a_rung_barrier(asha_outputs: list[dict]) -> None:
    per_rank = [len(out["jobs"]) for out in asha_outputs]
    assert min(per_rank) >= 0.3 * sum(per_rank)  # both ranks took a fair share
    jobs = [job for out in asha_outputs for job in out["jobs"] if not job[4]]
    last_rung0_end = max(end for _, rung, _, end, _ in jobs if rung == 0)
    first_rung1_start = min(start for _, rung, start, _, _ in jobs if rung == 1)
    assert first_rung1_start < last_rung0_end  # promotions began before rung 0 was complete


@pytest.mark.parametrize("sampler", ["random", "bohb"])
def test_distributed_search_resumes_with_the_same_decisions(
    tmp_path: pathlib.Path, sampler: str
) -> None:
    db = tmp_path / "runs.db"
    _torchrun("hyperband", str(tmp_path), str(db), "reference", "-1", sampler)
    reference = _outputs(tmp_path, "hyperband")
    # bracket s=2 has trials 0-8, bracket s=1 starts trials 9-13 at rung 0 (rank 0: 9, 11, 13;
    # rank 1: 10, 12): each rank finishes one of them, then both stop inside that rung
    _torchrun("hyperband", str(tmp_path), str(db), "cut", "11", sampler)
    interrupted = _outputs(tmp_path, "hyperband")
    assert all(out["interrupted"] for out in interrupted)
    _torchrun("hyperband", str(tmp_path), str(db), "cut", "-1", "resume", sampler)
    resumed = _outputs(tmp_path, "hyperband")

    assert resumed[0]["result"] == resumed[1]["result"]
    want, got = reference[0]["result"], resumed[0]["result"]
    assert (got["config"], got["metric"], got["trial_id"]) == (
        want["config"],
        want["metric"],
        want["trial_id"],
    )

    def decisions(result: dict) -> list:
        return [
            [(e["__trial_id__"], e["__num_halved__"], e["__metric__"]) for e in log]
            for log in result["logs"]
        ]

    assert decisions(got) == decisions(want)
    before = {tuple(c) for out in interrupted for c in out["calls"]}
    after = {tuple(c) for out in resumed for c in out["calls"]}
    assert before and after and not before & after  # finished (trial, rung) runs did not rerun
    everything = {tuple(c) for out in reference for c in out["calls"]}
    assert before | after == everything

    from ato.tracker import SQLFinder

    runs = [
        run
        for run in SQLFinder(f"sqlite:///{db}").get_runs_in_project("dist-resume")
        if "search:cut" in run.tags
    ]
    assert sorted({run.status for run in runs}) == ["completed", "killed"]
    answers = [run for run in runs if "final" in run.tags]
    # ato-tracker's SQLLogger.add_tags tags the answer's run; a tracker without it, nothing
    assert [run.id for run in answers] == [got["run_id"]]
    for run in runs:
        assert any(tag.startswith("trial:") for tag in run.tags)
        assert any(tag.startswith("budget:") for tag in run.tags)


def test_a_multi_objective_search_over_two_ranks_answers_as_one_process(
    tmp_path: pathlib.Path,
) -> None:
    sys.path.insert(0, str(WORKER.parent))
    try:
        from search_dist_worker import _plain, objectives_search, objectives_train
    finally:
        sys.path.remove(str(WORKER.parent))
    _torchrun("objectives", str(tmp_path))
    ranks = _outputs(tmp_path, "objectives")
    assert ranks[0]["result"] == ranks[1]["result"]
    alone = _plain(objectives_search().main(objectives_train)().to_dict())
    got = ranks[0]["result"]

    def front(result: dict) -> list:
        return [(m["trial_id"], m["metric"], m["budget"]) for m in result["front"]]

    assert front(got) == front(alone) and front(got)
    assert (got["trial_id"], got["metric"]) == (alone["trial_id"], alone["metric"])
    assert all(m["metric"]["over"] <= 0 for m in got["front"])
