"""Compatibility namespace: ``ato.db_routers.sql.manager`` is the import path older ato code uses."""

__all__: list[str] = []
