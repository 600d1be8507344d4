"""The ``ato`` command line: inspect runs recorded by [`ato.tracker`][ato.tracker].

::

    ato runs list [--status S] [--tag T] [--metric KEY] [--params K,..] [--sort COL]
                  [--search ID] [--limit N | --all]        # table of runs
    ato runs show ID [--keys PATTERN] [--max-keys N | --all-keys]
    ato runs best --metric KEY [--mode max|min] [--by last|best]  # or --search ID
    ato runs compare ID ID [ID ...] [--mode SPEC]            # config diff and metrics
    ato runs metrics RUN [--key K] [--format table|csv|json] # every logged value
    ato runs explain RUN KEY                                 # where a config value came from
    ato runs artifacts RUN                                   # name, size, sha256, stored?
    ato runs get RUN NAME [-o PATH] [--force]                # copy a stored artifact out
    ato runs mark RUN --status S                             # e.g. killed, for a crashed run
    ato runs export [PROJECT] [--format csv|json] [--params K,..]
    ato projects                                             # projects with run counts
    ato search status ID                                     # a shared search's jobs, workers
    ato search workers N -- COMMAND [ARGS...]                # N local workers of a search
    ato db upgrade | ato db current | ato db history         # the schema revision
    ato sync [--spool-dir DIR]      # write metrics saved while the database was unreachable
    ato import optuna --storage URL --study NAME [--metric-key KEY]
    ato import mlflow --from URI [--experiment NAME]
    ato import tensorboard DIR
    ato dashboard [--host H] [--port P] [--open]             # needs ato-dashboard

Global options: ``--db URL`` (default ``$ATO_DB``, else ``sqlite:///experiments.db``),
``--project NAME`` and ``--json``, before or after the subcommand; ``ato --version`` prints
every installed ato package. Also runnable as ``python -m ato.tracker.cli``.

Each subcommand is one row of the command table `registry.COMMANDS`: its options
(`arguments`), its handler (`handlers`) and how its errors become exit codes (`failures`).
``ato dashboard`` comes from ato-dashboard through the ``ato.commands`` entry point group
(`external`), so this package never imports the dashboard.
`render_runs_table` builds the same table ``ato runs list`` prints, for use in scripts.
"""

from .app import build_parser, main
from .tables import render_comparison, render_run, render_runs_table

__all__ = ["build_parser", "main", "render_comparison", "render_run", "render_runs_table"]
