# train.py -- the 2.x tracking example
import random

from ato.db_routers.sql.manager import SQLLogger
from configs.default import scope


def train_epoch(epoch, lr):
    return 1.0 / (epoch + 1) + lr


def validate(epoch):
    return 0.5 + 0.1 * epoch


@scope
def train(config):
    # Setup experiment tracking
    logger = SQLLogger(config)
    run_id = logger.run(tags=[config.model.backbone, config.data.dataset])

    try:
        # Training loop
        for epoch in range(config.train.epochs):
            loss = train_epoch(epoch, config.train.lr)
            acc = validate(epoch)

            logger.log_metric('train_loss', loss, step=epoch)
            logger.log_metric('val_accuracy', acc, step=epoch)

        # Save model
        logger.log_artifact(run_id, 'checkpoints/model_final.pt', data_type='model', metadata={'epochs': config.train.epochs})
        logger.finish(status='completed')
    except Exception as e:
        logger.finish(status='failed')
        raise e
    print(f"run {run_id} lr={config.train.lr} backbone={config.model.backbone}")


if __name__ == '__main__':
    random.seed(0)
    train()
