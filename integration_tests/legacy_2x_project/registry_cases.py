# How 2.x projects test their scopes: a fresh registry per case
import pytest
from ato.scope import Scope


@pytest.fixture(autouse=True)
def fresh_registry():
    Scope.initialize_registry()
    yield
    Scope.initialize_registry()


def make_scope():
    scope = Scope()

    @scope.observe(default=True)
    def defaults(config):
        config.lr = 0.001

    @scope.observe()
    def high_lr(config):
        config.lr = 0.01

    return scope


def test_defaults():
    assert make_scope().build([]).lr == 0.001
    assert list(Scope.registry) == ['config']


def test_named_view():
    assert make_scope().build(['high_lr']).lr == 0.01


def test_override():
    assert make_scope().build(['lr=0.5']).lr == 0.5
