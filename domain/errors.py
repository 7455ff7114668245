"""Errors a user can fix: the entry point prints their message as one line and exits with status 2."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the settings, files or database a user pointed Chorus at, not a bug; the message says what."""
