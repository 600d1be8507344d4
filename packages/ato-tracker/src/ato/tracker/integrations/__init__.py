"""Trackers for training frameworks: each module records a framework's training as ato runs.

==========================================  ==================================  =========================
module                                      what it gives                       install
==========================================  ==================================  =========================
``ato.tracker.integrations.lightning``      ``AtoLogger``, a Lightning          ``ato-tracker[lightning]``
                                            ``Logger`` (``lightning`` or
                                            ``pytorch_lightning`` 2.x)
``ato.tracker.integrations.transformers``   ``AtoCallback``, a Hugging Face     ``ato-tracker[transformers]``
                                            ``TrainerCallback``
==========================================  ==================================  =========================

Each module imports its framework when it is itself imported, never before: importing
``ato.tracker`` or this package imports no framework. Importing a module whose framework is
missing raises `ato.tracker.MissingDependencyError` naming the extra to install. The modules
use only the public API of [`ato.tracker`][ato.tracker] (a [`SQLLogger`][ato.tracker.SQLLogger]
per run), and write from one process only when training runs on several (rank 0, the main
process).
"""
