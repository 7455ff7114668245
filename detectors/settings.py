"""Detection's tunable thresholds, shared by the batch and the rolling-window engines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """Tunable thresholds; the defaults are what `scan` reports and the bot posts."""

    window_hours: float = 24.0
    """Posts further apart than this are never one group: the bot sees no more at once."""
    min_accounts: int = 3
    min_score: float = 0.5
    new_account_days: float = 30.0
    low_followers: int = 10

    @property
    def window_seconds(self) -> float:
        """`window_hours` in seconds."""
        return self.window_hours * 3600
