"""Integrations: ato-tracker inside the training frameworks' own callback interfaces.

Each submodule imports its framework, so import the one you use (importing ``ato.tracker``
imports none of them): `ato.tracker.integrations.keras` (a Keras 3 ``Callback``),
`ato.tracker.integrations.xgboost` (an XGBoost ``TrainingCallback``),
`ato.tracker.integrations.lightgbm` (a LightGBM callback) and
`ato.tracker.integrations.optuna` (an Optuna study callback). Each framework is installed by
the ato-tracker extra of the same name (``pip install 'ato-tracker[xgboost]'``).
"""
