"""The digest's chart: clusters and accounts flagged per hour or day, as a PNG for Slack."""

from __future__ import annotations

import io

import matplotlib.dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from domain.views import Digest


def digest_chart(digest: Digest) -> bytes:
    """Bars of clusters flagged per bucket with the accounts involved as a line, as PNG bytes."""
    starts = [start for start, _, _ in digest.timeline]
    clusters = [count for _, count, _ in digest.timeline]
    accounts = [count for _, _, count in digest.timeline]
    figure = Figure(figsize=(8, 3), dpi=100)  # the Agg canvas directly: no pyplot state, safe in threads
    FigureCanvasAgg(figure)
    left = figure.subplots()
    width = digest.bucket_hours / 24 * 0.8
    left.bar(starts, clusters, width=width, align="edge", color="#4a7bd0", label="clusters flagged")
    left.set_ylabel("clusters")
    right = left.twinx()
    right.plot([s + (starts[1] - starts[0]) / 2 if len(starts) > 1 else s for s in starts], accounts,
               color="#d0574a", marker="o", markersize=3, label="accounts involved")
    right.set_ylabel("accounts")
    for axis in (left, right):
        axis.set_ylim(bottom=0)
        axis.yaxis.get_major_locator().set_params(integer=True)
    left.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M" if digest.bucket_hours == 1 else "%d %b"))
    left.set_title(f"Flagged per {'hour' if digest.bucket_hours == 1 else 'day'}, "
                   f"{digest.since:%d %b %H:%M} – {digest.until:%d %b %H:%M} UTC", fontsize=10)
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
