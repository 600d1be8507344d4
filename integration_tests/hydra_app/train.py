"""A tiny Hydra app: logs a loss curve through the tracker and returns a score."""

import hydra
from omegaconf import DictConfig

from ato.tracker.hydra import current_logger


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def train(cfg: DictConfig) -> float:
    logger = current_logger()
    assert logger is not None, "the app runs with AtoTrackerCallback"
    for epoch in range(cfg.epochs):
        logger.log_metric("loss", 1.0 / (1 + epoch * cfg.lr), step=epoch)
    if cfg.fail:
        raise RuntimeError("the config asked this job to fail")
    return cfg.lr * cfg.model.depth


if __name__ == "__main__":
    train()
