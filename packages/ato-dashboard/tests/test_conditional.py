"""Conditional answers about a run (``ETag`` / ``If-None-Match`` -> 304) on every backend: the
same tag while the run is unchanged, a new one (and a fresh document) after any write to it;
documents kept for several pages polling one run, and answered without reading for
`run_cache.FRESH_FOR_S`; `ato.dashboard.run_cache` on its own (on a clock the tests move)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from ato.dashboard import create_app, data, run_cache
from ato.tracker import SQLLogger

BASE = "http://127.0.0.1"


def _logger(url: str) -> SQLLogger:
    return SQLLogger({"experiment": {"project_name": "live", "sql": {"db_path": url}}})


@pytest.fixture
def live(db_url: str) -> tuple[SQLLogger, int, TestClient]:
    logger = _logger(db_url)
    run_id = logger.run()
    for step in range(5):
        logger.log_metric("loss", 1.0 / (step + 1), step)
    logger.flush()
    app = create_app(db_url)
    app.state.documents = run_cache.RunDocuments(fresh_for=0)  # every request reads the stamp
    return logger, run_id, TestClient(app, base_url=BASE)


def _paths(run_id: int) -> list[str]:
    return [
        f"/api/runs/{run_id}",
        f"/api/runs/{run_id}/metrics/loss",
        f"/api/runs/{run_id}/metrics/loss?max_points=4",
    ]


def test_an_unchanged_run_is_not_modified_and_a_write_makes_it_new(live: Any):
    logger, run_id, client = live
    tags = {}
    for path in _paths(run_id):
        first = client.get(path)
        assert first.status_code == 200 and first.headers["cache-control"] == "private, no-cache"
        tags[path] = first.headers["etag"]
        again = client.get(path, headers={"If-None-Match": tags[path]})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == tags[path]
        assert again.headers["x-content-type-options"] == "nosniff"
    assert len(set(tags.values())) == len(tags)  # one document, one tag

    logger.log_metric("loss", 0.01, 5)
    logger.flush()
    for path in _paths(run_id):
        fresh = client.get(path, headers={"If-None-Match": tags[path]})
        assert fresh.status_code == 200 and fresh.headers["etag"] != tags[path]
    assert client.get(_paths(run_id)[1]).json()["total"] == 6

    logger.finish("failed")
    body = client.get(_paths(run_id)[0], headers={"If-None-Match": tags[_paths(run_id)[0]]})
    assert body.status_code == 200 and body.json()["status"] == "failed"


def test_if_none_match_lists_are_honoured(live: Any):
    _, run_id, client = live
    path = _paths(run_id)[0]
    etag = client.get(path).headers["etag"]
    strong = etag.removeprefix("W/")
    for header in (f'"other", {etag}', strong, f" {etag} "):
        assert client.get(path, headers={"If-None-Match": header}).status_code == 304, header
    for header in ('"other"', "*", ""):  # "*" is answered in full: see run_cache.matches
        assert client.get(path, headers={"If-None-Match": header}).status_code == 200, header


def test_an_unknown_run_or_key_is_a_404_without_a_tag(live: Any):
    _, run_id, client = live
    tag = client.get(_paths(run_id)[0]).headers["etag"]
    for path in (f"/api/runs/{run_id + 100}", f"/api/runs/{run_id}/metrics/nope"):
        for header in ({}, {"If-None-Match": "*"}, {"If-None-Match": tag}):
            answer = client.get(path, headers=header)
            assert answer.status_code == 404 and "etag" not in answer.headers, (path, header)
            assert answer.json()["error"]


def test_pages_polling_one_run_share_one_reading_until_it_changes(live: Any, monkeypatch):
    logger, run_id, client = live
    built: list[int] = []
    real = data.run_detail
    monkeypatch.setattr(data, "run_detail", lambda f, r: (built.append(r), real(f, r))[1])
    path = _paths(run_id)[0]
    bodies = {client.get(path).content for _ in range(3)}  # three pages, no If-None-Match
    assert len(bodies) == 1 and built == [run_id]
    logger.log_metric("loss", 0.5, 9)
    logger.flush()
    assert client.get(path).json()["metrics"]["loss"]["count"] == 6
    assert built == [run_id, run_id]


def test_the_document_store_keeps_the_latest_documents():
    class Finder:
        stamp = "a"

        def get_run_stamp(self, run_id: int) -> str:
            return self.stamp

    finder, store, built = Finder(), run_cache.RunDocuments(size=2, fresh_for=0), []

    def build(text: str):
        return lambda: (built.append(text), text.encode())[1]

    status, etag, body = store.answer(finder, 1, "/x", None, build("x"))  # type: ignore[arg-type]
    assert (status, body) == (200, b"x") and etag == run_cache.entity_tag("a", "/x")
    assert store.answer(finder, 1, "/x", etag, build("x")) == (304, etag, b"")  # type: ignore[arg-type]
    store.answer(finder, 1, "/y", None, build("y"))  # type: ignore[arg-type]
    store.answer(finder, 1, "/x", None, build("x"))  # type: ignore[arg-type]  # kept
    store.answer(finder, 1, "/z", None, build("z"))  # type: ignore[arg-type]  # /y goes
    store.answer(finder, 1, "/y", None, build("y"))  # type: ignore[arg-type]
    assert built == ["x", "y", "z", "y"]
    finder.stamp = "b"
    status, new_tag, _ = store.answer(finder, 1, "/x", etag, build("x2"))  # type: ignore[arg-type]
    assert status == 200 and new_tag != etag and built[-1] == "x2"
    with pytest.raises(ValueError, match="at least 1"):
        run_cache.RunDocuments(size=0)
    with pytest.raises(ValueError, match=">= 0"):
        run_cache.RunDocuments(fresh_for=-1)


def test_a_fresh_document_is_answered_without_reading_the_stamp():
    class Finder:
        stamp, reads = "a", 0

        def get_run_stamp(self, run_id: int) -> str:
            self.reads += 1
            return self.stamp

    now = [100.0]
    finder, built = Finder(), []
    store = run_cache.RunDocuments(fresh_for=1.0, clock=lambda: now[0])

    def answer(tag: str | None = None) -> tuple[int, str | None, bytes]:
        return store.answer(finder, 1, "/x", tag, lambda: (built.append(1), b"doc")[1])  # type: ignore[arg-type]

    _, first, _ = answer()
    finder.stamp = "b"  # the run changed; within a second the kept document still answers
    now[0] += 0.5
    assert answer() == (200, first, b"doc") and answer(first) == (304, first, b"")
    assert (finder.reads, len(built)) == (1, 1)
    now[0] += 0.5  # a second after it was built: the stamp is read again
    status, second, _ = answer(first)
    assert status == 200 and second != first and (finder.reads, len(built)) == (2, 2)
    now[0] += 2  # unchanged run: read the stamp, keep the document, nothing built
    assert answer(second) == (304, second, b"") and (finder.reads, len(built)) == (3, 2)
    now[0] += 0.5
    assert answer(second) == (304, second, b"") and finder.reads == 3


def test_the_app_keeps_documents_for_a_second_by_default(tmp_path: Any):
    app = create_app(str(tmp_path / "never-opened.db"))
    assert app.state.documents.fresh_for == run_cache.FRESH_FOR_S == 1.0


def test_tags_depend_on_the_document_and_compare_weakly():
    assert run_cache.entity_tag("s", "/a") != run_cache.entity_tag("s", "/b")
    assert run_cache.entity_tag("s", "/a") != run_cache.entity_tag("t", "/a")
    tag = run_cache.entity_tag("s", "/a")
    assert tag.startswith('W/"') and tag.endswith('"')
    assert run_cache.matches(tag.removeprefix("W/"), tag) and not run_cache.matches('"x"', tag)
    assert run_cache.headers_for(None, {"A": "1"}) == {"A": "1", "Cache-Control": "no-store"}
