"""The documented examples as real scripts with real argv; golden manual/print/explain output."""

from __future__ import annotations

import pytest

QUICKSTART = """
from ato.scope import Scope

scope = Scope()

@scope.observe(default=True)
def config(config):
    config.lr = 0.001
    config.batch_size = 32
    config.model = 'resnet50'

@scope.manual
def config_docs(config):
    config.lr = 'Learning rate for optimizer'
    config.batch_size = 'Number of samples per batch'
    config.model = 'Model architecture (resnet50, resnet101, etc.)'

@scope
def train(config):
    print(f"Training {config.model} with lr={config.lr}")

if __name__ == '__main__':
    train()
"""

PRIORITIES = """
from ato.scope import Scope

scope = Scope()

@scope.observe(default=True)
def defaults(config):
    config.lr = 0.001
    config.batch_size = 32

@scope.observe(priority=1)
def experiment_config(config):
    config.lr = 0.01

@scope.observe(priority=2)
def another_config(config):
    config.lr = 0.1

@scope.observe(lazy=True)
def adaptive_lr(config):
    if config.batch_size > 64:
        config.lr = config.lr * 2

@scope
def train(config):
    print(f"lr={config.lr} batch_size={config.batch_size}")

if __name__ == '__main__':
    train()
"""


def line_of(code: str, text: str) -> int:
    """1-based line of ``text`` in the script as written by ``run_script``."""
    return next(i for i, line in enumerate(code.splitlines(), 1) if text in line)


def test_quickstart_defaults_and_overrides(run_script) -> None:
    out = run_script(QUICKSTART)
    assert out.returncode == 0 and out.stdout == "Training resnet50 with lr=0.001\n"
    out = run_script(QUICKSTART, "lr=0.01", "model=%resnet101%")
    assert out.stdout == "Training resnet101 with lr=0.01\n"


def test_manual_golden(run_script) -> None:
    out = run_script(QUICKSTART, "manual")
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "--------------------------------------------------\n"
        '[Scope "config"]\n'
        "(The Applying Order of Views)\n"
        "config → (CLI Inputs)\n"
        "\n"
        "(User Manuals)\n"
        "lr: Learning rate for optimizer\n"
        "batch_size: Number of samples per batch\n"
        "model: Model architecture (resnet50, resnet101, etc.)\n"
        "--------------------------------------------------\n"
    )
    for flag in ("-h", "--help"):
        assert run_script(QUICKSTART, flag).stdout == out.stdout


@pytest.mark.parametrize(
    ("argv", "applying", "not_applied"),
    [
        ([], "defaults → (CLI Inputs)", "experiment_config, another_config, adaptive_lr"),
        (
            ["another_config", "adaptive_lr"],
            "defaults → another_config → (CLI Inputs) → adaptive_lr",
            "experiment_config",
        ),
        (
            ["adaptive_lr", "experiment_config", "another_config"],
            "defaults → experiment_config → another_config → (CLI Inputs) → adaptive_lr",
            None,
        ),
        (["lr=0.5"], "defaults → (CLI Inputs)", "experiment_config, another_config, adaptive_lr"),
    ],
)
def test_manual_orders_the_views_that_apply_and_lists_the_others_apart(
    run_script, argv: list[str], applying: str, not_applied: str | None
) -> None:
    out = run_script(PRIORITIES, *argv, "manual")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[3] == applying
    heading = "(Views Not Applied: name one on the command line to apply it)"
    if not_applied is None:
        assert heading not in lines
    else:
        assert lines[5:7] == [heading, not_applied]


def test_priorities_and_lazy_view(run_script) -> None:
    assert run_script(PRIORITIES).stdout == "lr=0.001 batch_size=32\n"
    out = run_script(PRIORITIES, "another_config", "experiment_config")
    assert out.stdout == "lr=0.1 batch_size=32\n"
    out = run_script(PRIORITIES, "another_config", "batch_size=128", "adaptive_lr")
    assert out.stdout == "lr=0.2 batch_size=128\n"


def test_print_golden(run_script) -> None:
    out = run_script(QUICKSTART, "print", "lr=0.01")
    assert out.returncode == 0
    assert out.stdout == "lr: 0.01\nbatch_size: 32\nmodel: resnet50\n"


def test_explain_golden(run_script) -> None:
    out = run_script(PRIORITIES, "experiment_config", "another_config", "explain", "lr")
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "--------------------------------------------------\n"
        '[Scope "config"]\n'
        "(The Applied Order of Views)\n"
        "defaults → experiment_config → another_config → (CLI Inputs)\n"
        "\n"
        "(Provenance: key = final value ← source; overrode = earlier writes)\n"
        f"lr = 0.1 ← another_config (train.py:{line_of(PRIORITIES, 'def another_config')})\n"
        f"    overrode 0.01 ← experiment_config (train.py:{line_of(PRIORITIES, 'def experiment')})\n"
        f"    overrode 0.001 ← defaults (train.py:{line_of(PRIORITIES, 'def defaults')})\n"
        "--------------------------------------------------\n"
    )


def test_explain_all_keys_and_cli_source(run_script) -> None:
    out = run_script(PRIORITIES, "batch_size=128", "adaptive_lr", "explain")
    assert "batch_size = 128 ← CLI batch_size=128\n    overrode 32 ← defaults" in out.stdout
    where = line_of(PRIORITIES, "def adaptive_lr")
    assert f"lr = 0.002 ← adaptive_lr (train.py:{where})\n    overrode 0.001" in out.stdout


def test_explain_unknown_key(run_script) -> None:
    out = run_script(PRIORITIES, "explain", "lrr")
    assert out.returncode == 2
    assert "no key 'lrr'" in out.stderr and "Did you mean 'lr'" in out.stderr
    nested = PRIORITIES.replace("config.batch_size = 32", "config.data.batch_size = 32")
    out = run_script(nested, "explain", "batch_size")
    assert out.returncode == 2 and "Did you mean 'data.batch_size'" in out.stderr


def test_unknown_view_message(run_script) -> None:
    out = run_script(PRIORITIES, "another_confg")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "train.py: error: unknown view 'another_confg'. Did you mean 'another_config'" in (
        out.stderr
    )


def test_lazy_block_example(run_script) -> None:
    code = """
    from ato.scope import Scope

    scope = Scope()

    @scope.observe()
    def my_config(config):
        config.model = 'resnet50'
        config.num_layers = 50

        with Scope.lazy():
            if config.model == 'resnet101':
                config.num_layers = 101

    @scope
    def main(config):
        print(config.model, config.num_layers)

    main()
    """
    assert run_script(code, "my_config").stdout == "resnet50 50\n"
    assert run_script(code, "my_config", "model=%resnet101%").stdout == "resnet101 101\n"


MULTI = """
from ato.scope import MultiScope, Scope

model_scope = Scope(name='model')
data_scope = Scope(name='data')
scope = MultiScope(model_scope, data_scope)

@model_scope.observe(default=True)
def model_config(model):
    model.backbone = 'resnet50'
    model.lr = 0.1

@model_scope.observe(priority=1)
def resnet101(model):
    model.backbone = 'resnet101'

@data_scope.observe(default=True)
def data_config(data):
    data.dataset = 'cifar10'
    data.lr = 0.001

@model_scope.manual
def model_docs(model):
    model.backbone = 'Backbone network'

@scope
def train(model, data):
    print(f"{model.backbone} {model.lr} {data.dataset} {data.lr}")

if __name__ == '__main__':
    train()
"""


def test_multiscope_namespaces(run_script) -> None:
    assert run_script(MULTI).stdout == "resnet50 0.1 cifar10 0.001\n"
    out = run_script(MULTI, "model.backbone=%resnet101%")
    assert out.stdout == "resnet101 0.1 cifar10 0.001\n"
    out = run_script(MULTI, "data.dataset=%imagenet%", "model.lr=0.5")
    assert out.stdout == "resnet50 0.5 imagenet 0.001\n"
    assert run_script(MULTI, "resnet101").stdout == "resnet101 0.1 cifar10 0.001\n"


def test_multiscope_manual_golden(run_script) -> None:
    out = run_script(MULTI, "manual")
    assert out.stdout == (
        "--------------------------------------------------\n"
        '[Scope "model"]\n'
        "(The Applying Order of Views)\n"
        "model_config → (CLI Inputs)\n"
        "\n"
        "(Views Not Applied: name one on the command line to apply it)\n"
        "resnet101\n"
        "\n"
        "(User Manuals)\n"
        "model.backbone: Backbone network\n"
        "--------------------------------------------------\n"
        '[Scope "data"]\n'
        "(The Applying Order of Views)\n"
        "data_config → (CLI Inputs)\n"
        "\n"
        "(User Manuals)\n"
        "(none: document keys with @scope.manual)\n"
        "--------------------------------------------------\n"
    )
    named = run_script(MULTI, "model.resnet101", "manual").stdout.splitlines()
    assert named[3] == "model_config → resnet101 → (CLI Inputs)"
    assert "resnet101" not in named[4:]


def test_multiscope_print_and_explain(run_script) -> None:
    out = run_script(MULTI, "print")
    assert out.stdout == (
        "model:\n  backbone: resnet50\n  lr: 0.1\ndata:\n  dataset: cifar10\n  lr: 0.001\n"
    )
    out = run_script(MULTI, "data.lr=0.5", "explain", "data.lr")
    assert '[Scope "data"]' in out.stdout and '[Scope "model"]' not in out.stdout
    assert "data.lr = 0.5 ← CLI data.lr=0.5\n    overrode 0.001 ← data_config" in out.stdout
    out = run_script(MULTI, "explain", "model")
    assert out.returncode == 0 and '[Scope "data"]' not in out.stdout
    assert "model.backbone = 'resnet50' ← model_config" in out.stdout
    assert "model.lr = 0.1 ← model_config" in out.stdout
    out = run_script(MULTI, "explain", "lr")
    assert "model.lr = 0.1" in out.stdout and "data.lr = 0.001" in out.stdout


ARGPARSE = """
import argparse
from ato.scope import Scope

scope = Scope(use_external_parser=True)
parser = argparse.ArgumentParser()
parser.add_argument('--gpu', type=int, default=0)
parser.add_argument('--seed', type=int, default=42)

@scope.observe(default=True)
def config(config):
    config.lr = 0.001
    config.batch_size = 32
    config.seed = 7

@scope.observe()
def fast(config):
    config.lr = 0.1

@scope
def train(config):
    print(f"GPU: {config.gpu}, LR: {config.lr}, seed: {config.seed}")

if __name__ == '__main__':
    parser.parse_args()
    train()
"""


def test_argparse_defaults_below_views_flags_above(run_script) -> None:
    assert run_script(ARGPARSE).stdout == "GPU: 0, LR: 0.001, seed: 7\n"
    out = run_script(ARGPARSE, "--gpu", "1", "--seed=3", "fast", "batch_size=64")
    assert out.stdout == "GPU: 1, LR: 0.1, seed: 3\n", out.stderr


def test_argparse_help_shows_manual_and_flags(run_script) -> None:
    out = run_script(ARGPARSE, "--help")
    assert out.returncode == 0 and not out.stderr
    assert "(argparse defaults) → config → (argparse flags) → (CLI Inputs)\n" in out.stdout
    assert "--gpu GPU" in out.stdout
    out = run_script(ARGPARSE, "--gpu", "1", "fast", "--help")
    assert "(argparse defaults) → config → fast → (argparse flags) → (CLI Inputs)" in out.stdout


def test_argparse_unknown_flag_is_argparse_error(run_script) -> None:
    out = run_script(ARGPARSE, "--gpus", "1")
    assert out.returncode == 2 and "unrecognized arguments: --gpus" in out.stderr


def test_argparse_explain_labels(run_script) -> None:
    out = run_script(ARGPARSE, "--seed", "3", "explain", "seed")
    assert "seed = 3 ← argparse --seed\n    overrode 7 ← config" in out.stdout
    out = run_script(ARGPARSE, "explain", "seed", "gpu")
    assert "seed = 7 ← config" in out.stdout and "overrode 42 ← argparse defaults" in out.stdout
    assert "gpu = 0 ← argparse defaults" in out.stdout


def test_flag_without_external_parser_is_parse_error(run_script) -> None:
    out = run_script(QUICKSTART, "--lr", "1")
    assert out.returncode == 2 and "use_external_parser=True" in out.stderr
    assert "Traceback" not in out.stderr


def test_explicit_argv_still_raises_usage_errors() -> None:
    import pytest

    from ato.scope import Scope
    from ato.scope.errors import CLIParseError, UnknownViewError

    scope = Scope()

    @scope.observe(default=True)
    def defaults(config):
        config.lr = 0.1

    with pytest.raises(UnknownViewError):
        scope.build(["nope"])
    with pytest.raises(CLIParseError):
        scope.build(["lr=[1,"])


def test_hostile_command_line_runs_nothing(run_script, tmp_path) -> None:
    hostile = [
        "lr=__import__('os').system('touch PWNED')",
        "model=open('PWNED', 'w')",
        "__import__('os').system('touch PWNED')",
    ]
    for token in hostile:
        out = run_script(QUICKSTART, token)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert "train.py: error: cannot parse command-line token" in out.stderr
    out = run_script(QUICKSTART, "model:=__import__('os').system('touch PWNED')")
    assert out.stdout == "Training __import__('os').system('touch PWNED') with lr=0.001\n"
    assert not (tmp_path / "PWNED").exists()


def test_argparse_help_with_a_required_positional(run_script) -> None:
    code = ARGPARSE.replace(
        "parser.add_argument('--seed', type=int, default=42)",
        "parser.add_argument('--seed', type=int, default=42)\nparser.add_argument('data_dir')",
    )
    out = run_script(code, "--help")
    assert out.returncode == 0 and not out.stderr, out.stderr
    assert '[Scope "config"]' in out.stdout and "data_dir" in out.stdout
    out = run_script(code, "/data", "--gpu", "2", "fast")
    assert out.stdout == "GPU: 2, LR: 0.1, seed: 7\n", out.stderr
    out = run_script(code)
    assert out.returncode == 2 and "required: data_dir" in out.stderr
