"""The import path and call sequence of older ato code keep working."""

from __future__ import annotations

from ato.adict import ADict


def test_db_routers_path_reexports_logger_and_finder():
    from ato.db_routers.sql.manager import SQLFinder, SQLLogger
    from ato.tracker import SQLFinder as Finder
    from ato.tracker import SQLLogger as Logger

    assert (SQLLogger, SQLFinder) == (Logger, Finder)


def test_try_finish_pattern(db_url):
    from ato.db_routers.sql.manager import SQLFinder, SQLLogger

    config = ADict(model=ADict(backbone="vit", size="base"), data=ADict(dataset="cifar10"))
    config.train = ADict(lr=0.001, epochs=3)
    config.experiment = ADict(project_name="seed_style", sql=ADict(db_path=db_url))

    logger = SQLLogger(config)
    run_id = logger.run(tags=[config.model.backbone, config.data.dataset])
    try:
        for epoch in range(config.train.epochs):
            logger.log_metric("train_loss", 1.0 / (epoch + 1), epoch)
            logger.log_metric("val_accuracy", 0.5 + epoch / 10, epoch)
        logger.log_artifact(run_id, "checkpoints/last.pt", "model")
        logger.finish(status="completed")
    except Exception:
        logger.finish(status="failed")
        raise

    finder = SQLFinder(config)
    best = finder.find_best_run("seed_style", "val_accuracy", mode="max")
    assert best.id == run_id
    assert best.config.model.backbone == "vit"
    assert best.tags == ["vit", "cifar10"]
    assert [r.id for r in finder.get_runs_in_project("seed_style")] == [run_id]
    assert finder.find_project("seed_style").name == "seed_style"
    assert logger.get_current_run().status == "completed"


def test_finder_calls_with_the_keywords_older_code_uses(db_url):
    from ato.db_routers.sql.manager import SQLFinder, SQLLogger

    config = ADict(lr=0.1, experiment=ADict(project_name="image_classification"))
    config.experiment.sql = ADict(db_path=db_url)
    ids = []
    for version in ("v1", "v1", "v2"):
        logger = SQLLogger(config)
        ids.append(logger.run(tags=["seed"]))
        logger.log_fingerprint("model_forward", version, "static")
        logger.log_metric("val_accuracy", 0.5, 0)
        logger.finish()

    finder = SQLFinder(config)
    assert [r.id for r in finder.find_similar_runs(run_id=ids[0])] == ids[1:]
    same_code = finder.find_similar_runs_by_trace(
        run_id=ids[0], trace_id="model_forward", trace_type="static"
    )
    assert [r.id for r in same_code] == [ids[1]]
    stats = finder.get_trace_statistics("image_classification", trace_id="model_forward")
    assert stats["static_trace_versions"] == 2
    run = finder.find_run(ids[0])
    assert [(m.key, m.value, m.step) for m in run.metrics] == [("val_accuracy", 0.5, 0)]
