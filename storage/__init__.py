"""SQLite storage through sqlite-utils: one repository object, so nothing else touches tables."""

from storage.store import StorageError, Store

__all__ = ["StorageError", "Store"]
