"""SQLite storage through sqlite-utils: one facade, `Store`, over one small module per aggregate."""

from storage.database import StorageError
from storage.store import Store

__all__ = ["StorageError", "Store"]
