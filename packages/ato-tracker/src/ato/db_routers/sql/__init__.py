"""SQL tracker under its historical import path (see [`ato.tracker`][ato.tracker])."""

__all__: list[str] = []
