"""Integrations: ato-tracker inside the training frameworks' own callback interfaces; each
module records a framework's training as ato runs.

==========================================  ==================================  ==========================
module                                      what it gives                       install
==========================================  ==================================  ==========================
``ato.tracker.integrations.lightning``      ``AtoLogger``, a Lightning          ``ato-tracker[lightning]``
                                            ``Logger`` (``lightning`` or
                                            ``pytorch_lightning`` 2.x)
``ato.tracker.integrations.transformers``   ``AtoCallback``, a Hugging Face     ``ato-tracker[transformers]``
                                            ``TrainerCallback``
``ato.tracker.integrations.keras``          ``AtoCallback``, a Keras 3          ``ato-tracker[keras]``
                                            ``Callback``
``ato.tracker.integrations.xgboost``        ``AtoCallback``, an XGBoost         ``ato-tracker[xgboost]``
                                            ``TrainingCallback``
``ato.tracker.integrations.lightgbm``       ``ato_callback()``, a LightGBM      ``ato-tracker[lightgbm]``
                                            callback
``ato.tracker.integrations.optuna``         ``AtoCallback``, an Optuna study    ``ato-tracker[optuna]``
                                            callback (each trial a run)
==========================================  ==================================  ==========================

Each module imports its framework when it is itself imported, never before: importing
``ato.tracker`` or this package imports no framework, so import the module you use. Importing
one whose framework is not installed raises `ato.tracker.MissingDependencyError` naming the
extra to install. Each takes ``system_metrics=`` (see `ato.tracker.SQLLogger`). The modules use only the public API of
[`ato.tracker`][ato.tracker] (a [`SQLLogger`][ato.tracker.SQLLogger] per run), and write from
one process only when training runs on several (rank 0, the main process).
"""
