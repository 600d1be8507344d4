# configs/default.py -- shared scope, as in the 2.x "Best Practices" layout
from ato.scope import Scope
from ato.adict import ADict

scope = Scope()

@scope.observe(default=True)
def defaults(config):
    # Data
    config.data = ADict(
        dataset='cifar10',
        batch_size=32,
        num_workers=4
    )

    # Model
    config.model = ADict(
        backbone='resnet50',
        pretrained=True
    )

    # Training
    config.train = ADict(
        lr=0.001,
        epochs=3,
        optimizer='adam'
    )

    # Experiment tracking
    config.experiment = ADict(
        project_name='my_project',
        sql=ADict(db_path='sqlite:///experiments.db')
    )

@scope.observe(priority=1)
def high_lr(config):
    config.train.lr = 0.01

@scope.manual
def config_docs(config):
    config.train.lr = 'Learning rate for optimizer'
    config.data.batch_size = 'Number of samples per batch'
