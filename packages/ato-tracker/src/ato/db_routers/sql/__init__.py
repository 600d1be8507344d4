"""SQL tracker under its historical import path (see :mod:`ato.tracker`)."""
