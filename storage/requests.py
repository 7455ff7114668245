"""Signatures of Slack requests already accepted, kept until Slack's own age limit refuses them."""

from __future__ import annotations

from storage.database import Database


class SeenRequests(Database):
    """The replay guard's memory, in the database so that a restart does not forget it."""

    def first_sighting(self, signature: str, expires: float, now: float) -> bool:
        """Record a signed request's signature until `expires` (epoch seconds); False when it was seen before.

        Signatures past their expiry are forgotten on the way, so the table holds minutes of requests.
        """
        with self.atomic():
            self.db.execute("DELETE FROM seen_requests WHERE expires < ?", [now])
            inserted = self.db.execute("INSERT OR IGNORE INTO seen_requests (signature, expires) VALUES (?, ?)",
                                       [signature, expires])
            return inserted.rowcount == 1
