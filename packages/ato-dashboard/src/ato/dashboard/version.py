"""The version of ato-dashboard (the one source the wheel's version is read from)."""

__version__ = "3.0.0"
