"""Historical import path: ``from ato.db_routers.sql.manager import SQLLogger, SQLFinder``."""

from ato.tracker import SQLFinder, SQLLogger

__all__ = ["SQLFinder", "SQLLogger"]
