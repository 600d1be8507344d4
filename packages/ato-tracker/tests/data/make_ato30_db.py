"""Write ``ato-3.0.0-sqlite.db``: a tracker database as ato-tracker 3.0.0 wrote it, before the
schema was versioned (no Alembic version table). Kept as a file; this script documents how it
was produced (run once with ato-tracker 3.0.0 installed from commit a61da88):

    python make_ato30_db.py ato-3.0.0-sqlite.db

Project ``cls30``: 3 runs with ``loss``/``acc`` at steps 0-4 (run 1 has the best ``acc``), an
artifact with metadata and a fingerprint per run, run 2 also logs a NaN and a step-less value.
"""

from __future__ import annotations

import sys

from ato.adict import ADict
from ato.tracker import SQLLogger


def main(path: str) -> None:
    config = ADict(experiment=ADict(project_name="cls30", sql=ADict(db_path=f"sqlite:///{path}")))
    config.model = ADict(name="resnet18", depth=18)
    logger = SQLLogger(config)
    for index in range(3):
        config.lr = 0.1 / (index + 1)
        logger.run(tags=["baseline", f"r{index}"])
        for step in range(5):
            logger.log_metric("loss", 1.0 / (step + 1 + index), step)
            logger.log_metric("acc", round(0.5 + step / 10 - index / 100, 4), step)
        if index == 1:
            logger.log_metric("grad_norm", float("nan"), 5)
            logger.log_metric("final_note", 1.5)
        logger.log_artifact(
            logger.get_current_run_id(), f"/ckpt/model_{index}.pt", "model", {"epoch": 4}
        )
        logger.log_fingerprint("model_forward", f"{index:040x}")
        logger.finish("completed" if index != 2 else "failed")


if __name__ == "__main__":
    main(sys.argv[1])
