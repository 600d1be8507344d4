"""A real HyperBand search tracked with SQLLogger, read back through the dashboard's JSON."""

from __future__ import annotations

import pytest
from starlette import testclient

from ato.adict import ADict
from ato.dashboard import create_app
from ato.hyperopt import HyperBand, current_logger
from ato.tracker import SQLLogger


def test_search_page_data_matches_the_search(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    base = ADict(lr=0.0, width=8, experiment=ADict(project_name="hb", sql=ADict(db_path=db)))
    spaces = {
        "lr": dict(param_type="FLOAT", param_range=(1e-3, 1e-1), num_samples=3, space_type="LOG"),
        "width": dict(param_type="CATEGORY", categories=[8, 32]),
    }
    hb = HyperBand(
        base, spaces, halving_rate=0.5, num_min_samples=2, tracker=SQLLogger, metric_key="val_acc"
    )

    @hb.main
    def train(config):
        for epoch in range(2):
            current_logger().log_metric("train_loss", 1.0 / (epoch + 1 + config.lr), epoch)
        return 1.0 - abs(config.lr - 0.01) - (0.1 if config.width == 8 else 0.0)

    result = train()
    client = testclient.TestClient(create_app(db), base_url="http://127.0.0.1")
    body = client.get(f"/api/searches/{result.search_id}").json()
    assert body["metric"] == "search/val_acc" and body["mode"] == "max"  # the ranked value
    assert sorted(body["params"]) == ["lr", "width"]
    assert [len(r["trials"]) for r in body["rounds"]] == [len(logs) for logs in result.logs]
    assert body["best"]["run_id"] == result.run_id
    assert body["best"]["metric"] == pytest.approx(result.metric)
    assert body["best"]["params"] == {"lr": result.config.lr, "width": result.config.width}
    survivors = sum(len(logs) for logs in result.logs[1:])
    assert len(body["links"]) == survivors  # every later-round trial links to its previous round
    page = client.get(f"/searches/{result.search_id}")
    assert page.status_code == 200
    runs = client.get("/api/projects/hb/runs").json()
    assert set(runs["runs"]["search_id"]) == {result.search_id}
