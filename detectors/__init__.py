"""Pure detection: posts in, scored clusters with reasons out. No I/O, no Slack, no storage."""

from detectors.engine import WindowIndex, detect
from detectors.settings import DetectionSettings

__all__ = ["DetectionSettings", "WindowIndex", "detect"]
