# Building a config in code, the 2.x way: assign literals to a scope, then apply them
import sys

from ato.scope import Scope

Scope.initialize_registry()
scope = Scope(name='config')


@scope.observe(default=True)
def defaults(config):
    config.lr = 0.001
    config.batch_size = 32
    config.model = 'resnet50'


@scope.observe(priority=1)
def high_lr(config):
    config.lr = 0.01


@scope.observe(lazy=True)
def scaled(config):
    config.effective_lr = config.lr * config.batch_size / 32


scope.assign('high_lr')
scope.assign(['batch_size=64', 'scaled'])
scope.apply()
print(scope.config.lr, scope.config.batch_size, scope.config.effective_lr)

scope.reset_user_inputs()
scope.assign('model=%vit b%', {'data': {'name': 'cifar10'}})
scope.apply()
print(scope.config.model, scope.config.lr, scope.config.data.name)

scope.reset_user_inputs()
scope.assign(sys.argv[1:])
config = scope.apply()
print(config.to_dict())
