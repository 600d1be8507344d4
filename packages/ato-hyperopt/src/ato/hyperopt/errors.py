"""Every exception raised by ato.hyperopt.

Each derives from the builtin that fits (``ValueError``, ``TypeError``, ``KeyError``,
``RuntimeError``) so existing ``except`` clauses keep working.
"""

from __future__ import annotations


class SearchSpaceError(ValueError):
    """A search space is malformed (missing/unknown ``param_type``, bad ``param_range``, ...).

    The message names the parameter (its dotted path) and what to change.
    """


class SearchSettingError(ValueError):
    """A search setting is out of range (``halving_rate``, ``num_min_samples``, ``mode``,
    ``on_error``, ``rank``/``world_size``/``backend``)."""


class ConfigTypeError(TypeError):
    """The first argument is neither a Scope nor a supported config object
    (ADict, dict, OmegaConf ``DictConfig``, dataclass instance)."""


class ConfigPathError(KeyError):
    """A dotted search-space key does not lead to a settable place in the config
    (for example a missing dataclass field)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class TrialResultError(TypeError):
    """A trial function returned something that is not a real number."""


class TrialFailedError(RuntimeError):
    """Raised on every rank of a distributed search when a trial on another rank raised
    and ``on_error='raise'`` is set (the rank where it happened re-raises the original)."""


class DistributedSetupError(RuntimeError):
    """``torch.distributed`` is not available or not initialized, or its rank/world size
    disagree with the ones given to the search."""


class NewKeyWarning(UserWarning):
    """A search-space key names a path the base config lacks, next to a close existing key
    (``lrr`` beside ``lr``): likely a typo. The message names the key it probably meant."""


class OverriddenBySearchWarning(UserWarning):
    """A key set on the command line is also in the search space; every trial replaces it
    with the trial's value, so the command-line value has no effect."""


class OutsideTrialError(RuntimeError):
    """[`trial_context()`][ato.hyperopt.trial_context] was called outside a running trial."""


class SearchInterrupted(KeyboardInterrupt):
    """A search was stopped by SIGINT or SIGTERM. The message says how to resume it."""
