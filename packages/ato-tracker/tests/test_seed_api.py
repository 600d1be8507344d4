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
