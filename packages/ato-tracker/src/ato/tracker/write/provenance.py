"""How a run was launched: command line, machine, versions, git state and Scope provenance.

``collect_provenance`` gathers what every run stores in its ``provenance`` field (read back
as ``Run.provenance``, an ADict)::

    argv     the command line (sys.argv)          cwd    the working directory
    host     the hostname                         pid    the process id
    python   {'version', 'implementation', 'executable'}
    ato      {distribution: version} of every installed ato package
    git      {'commit', 'dirty', 'branch'} of the working directory, or None (no git / no repo)
    scope    see ``scope_provenance`` (only when the run was launched under a Scope)

Git is asked with the ``git`` command (``rev-parse``, ``status --porcelain``), each call
limited to ``GIT_TIMEOUT_S`` seconds; a missing or slow git, or a directory outside a
repository, gives ``None`` and never fails the run. The answer is cached per process and
directory (a search opens many runs from one launch).

The Scope part is read by duck typing (no import of ato-scope): any object with
``applied_views`` (step names in order) and ``provenance`` (``{dotted key: [write, ...]}``
where a write has ``value`` and ``source`` with ``kind``, ``label`` and ``where``) works.
A config built by an ato ``Scope`` carries such a record of its build in its attribute
``__ato_scope__`` (``scope_of``), so the logger finds it without being handed the scope.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from ..storage.normalize import to_json_value
from ..storage.versions import ato_versions

GIT_TIMEOUT_S = 2.0
OVERRIDE_KINDS = ("cli", "argparse")
SCOPE_ATTRIBUTE = "__ato_scope__"


def collect_provenance(scope: Any = None) -> dict[str, Any]:
    """The provenance of a run started now in this process (see the module docstring);
    with ``scope`` (an ato ``Scope`` after its build), also its ``scope`` section. JSON data."""
    cwd = os.getcwd()
    record: dict[str, Any] = {
        "argv": [str(arg) for arg in sys.argv],
        "cwd": cwd,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "ato": dict(ato_versions()),
        "git": git_state(cwd),
    }
    if scope is not None:
        section = scope_provenance(scope)
        if section is not None:
            record["scope"] = section
    return record


@functools.lru_cache(maxsize=16)
def git_state(directory: str) -> dict[str, Any] | None:
    """``{'commit': sha, 'dirty': bool, 'branch': name or None}`` of the git work tree at
    ``directory``; ``None`` when git is missing, times out, or it is not a repository.
    ``dirty`` means tracked files have uncommitted changes."""
    commit = _git(directory, "rev-parse", "HEAD")
    if commit is None:
        return None
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    branch = _git(directory, "rev-parse", "--abbrev-ref", "HEAD")
    return {
        "commit": commit,
        "dirty": None if status is None else bool(status),
        "branch": None if branch in (None, "HEAD") else branch,
    }


def _git(directory: str, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", *args],  # never touch the user's index lock
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def scope_of(config: Any) -> Any:
    """The record of the Scope build that made ``config`` (its ``__ato_scope__`` attribute,
    which ato-scope sets on the configs it builds), or ``None`` for any other object."""
    try:
        return getattr(config, SCOPE_ATTRIBUTE, None)
    except Exception:  # a config type whose attribute lookup fails in its own way
        return None


def scope_provenance(scope: Any) -> dict[str, Any] | None:
    """The Scope section of a run's provenance, or ``None`` if ``scope`` has not built a
    config (or is not Scope-like)::

        {'name': 'config',
         'views': ['defaults', 'quick', '(CLI Inputs)', ...],     # applied, in order
         'overrides': ['train.max_epochs=60', ...],               # CLI / argparse tokens
         'keys': {'optim.lr': [{'value': 0.001, 'source': 'defaults (train.py:12)',
                                'kind': 'view', 'label': 'defaults', 'where': 'train.py:12'},
                               ...]}}                             # oldest write first

    A write that removed a key has ``'deleted': True`` and ``value`` ``None``.
    """
    writes = getattr(scope, "provenance", None)
    views = getattr(scope, "applied_views", None)
    if not isinstance(writes, Mapping) or views is None or (not writes and not views):
        return None
    keys: dict[str, list[dict[str, Any]]] = {}
    overrides: list[str] = []
    for key, history in writes.items():
        keys[str(key)] = [_write_record(write) for write in history]
        for write in history:
            source = getattr(write, "source", None)
            label = str(getattr(source, "label", ""))
            if getattr(source, "kind", None) in OVERRIDE_KINDS and label not in overrides:
                overrides.append(label)
    return {
        "name": str(getattr(scope, "name", "")),
        "views": [str(view) for view in views],
        "overrides": overrides,
        "keys": keys,
    }


def _write_record(write: Any) -> dict[str, Any]:
    source = getattr(write, "source", None)
    value = getattr(write, "value", None)
    deleted = type(value).__name__ == "_Deleted"
    record = {
        "value": None if deleted else to_json_value(value),
        "source": str(source),
        "kind": str(getattr(source, "kind", "")),
        "label": str(getattr(source, "label", "")),
        "where": str(getattr(source, "where", "")),
    }
    if deleted:
        record["deleted"] = True
    return record
