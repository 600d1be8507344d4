"""Every exception raised by ato.hyperopt.

Every error derives from [`HyperoptError`][ato.hyperopt.HyperoptError] (``except
HyperoptError`` catches them all) and from the builtin that fits (``ValueError``,
``TypeError``, ``KeyError``, ``RuntimeError``), so existing ``except`` clauses keep working.
"""

from __future__ import annotations

from typing import Any


class HyperoptError(Exception):
    """Root of the errors ato.hyperopt raises."""


class SearchSpaceError(HyperoptError, ValueError):
    """A search space is malformed (missing/unknown ``param_type``, bad ``param_range``, ...).

    The message names the parameter (its dotted path) and what to change.
    """


class SearchSettingError(HyperoptError, ValueError):
    """A search setting is out of range (``halving_rate``, ``num_min_samples``, ``mode``,
    ``on_error``, ``rank``/``world_size``/``backend``)."""


class ConfigTypeError(HyperoptError, TypeError):
    """The first argument is neither a Scope nor a supported config object
    (ADict, dict, OmegaConf ``DictConfig``, dataclass instance)."""


class ConfigPathError(HyperoptError, KeyError):
    """A dotted search-space key does not lead to a settable place in the config
    (for example a missing dataclass field)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class TrialResultError(HyperoptError, TypeError):
    """A trial function returned something that is not a real number."""


class TrialFailedError(HyperoptError, RuntimeError):
    """Raised on every rank of a distributed search when a trial on another rank raised
    and ``on_error='raise'`` is set (the rank where it happened re-raises the original)."""


class DistributedSetupError(HyperoptError, RuntimeError):
    """``torch.distributed`` is not available or not initialized, or its rank/world size
    disagree with the ones given to the search."""


class NewKeyWarning(UserWarning):
    """A search-space key names a path the base config lacks, next to a close existing key
    (``lrr`` beside ``lr``): likely a typo. The message names the key it probably meant."""


class OverriddenBySearchWarning(UserWarning):
    """A key set on the command line is also in the search space; every trial replaces it
    with the trial's value, so the command-line value has no effect."""


class OutsideTrialError(HyperoptError, RuntimeError):
    """[`trial_context()`][ato.hyperopt.trial_context] was called outside a running trial."""


class NoAnswerError(HyperoptError, RuntimeError):
    """No evaluation of a search completed with a finite metric, so the search has no answer
    (see `ato.hyperopt.answer`). The message counts the failures and quotes the first error.

    Attributes:
        search_id: the search's id.
        logs: the search's logs, as a result would carry them (every evaluation, failed).
    """

    def __init__(
        self, message: str, search_id: str = "", logs: list[list[Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.search_id = search_id
        self.logs = logs or []


class SearchLockedError(HyperoptError, RuntimeError):
    """Another running process holds the search's lock (it runs the same search id with the
    same checkpoint folder); see `ato.hyperopt.lock`."""


class SearchInterrupted(KeyboardInterrupt):
    """A search was stopped by SIGINT or SIGTERM. The message says how to resume it."""


class TrialTimeout(BaseException):
    """Raised inside a trial that ran past the search's ``trial_timeout`` (see
    `ato.hyperopt.timeouts`). It derives from ``BaseException``, like
    ``KeyboardInterrupt``, so that a trial's own ``except Exception`` does not swallow it; the
    search catches it, records the trial as failed with a timeout reason and goes on."""
