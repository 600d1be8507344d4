"""What a search records besides its trials' metrics: a policy a [`Search`][ato.hyperopt.Search]
holds, so the seed's presets keep the seed's records without a switch inside the engine."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FULL_RECORDS", "SEED_RECORDS", "Records"]


@dataclass(frozen=True)
class Records:
    """The records of a search.

    Attributes:
        trial_keys: trial configs carry ``__budget__`` and ``__trial_id__`` (besides
            ``__num_halved__``, which they always carry).
        engine_messages: progress lines name the bracket and rung of each batch, and an
            interrupted search prints how to resume it (the seed's presets: ``round k/N`` lines
            and a hint to use ``Search`` for resuming).
        result_facts: the result carries ``trial_id``, ``budget`` and ``timed_out``.
        interrupt_status: status of the run of a trial stopped by Ctrl-C/SIGTERM.
    """

    trial_keys: bool = True
    engine_messages: bool = True
    result_facts: bool = True
    interrupt_status: str = "killed"


#: What a [`Search`][ato.hyperopt.Search] records by default.
FULL_RECORDS = Records()
#: The seed's records (the ``HyperBand`` presets): configs carry ``__num_halved__`` only, the
#: result has the seed's keys, interrupted runs are marked ``failed``.
SEED_RECORDS = Records(
    trial_keys=False, engine_messages=False, result_facts=False, interrupt_status="failed"
)
