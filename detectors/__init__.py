"""Pure detection: posts in, scored clusters with reasons out. No I/O, no Slack, no storage."""

from detectors.engine import DetectionSettings, WindowIndex, detect

__all__ = ["DetectionSettings", "WindowIndex", "detect"]
