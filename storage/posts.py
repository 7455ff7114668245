"""Posts and the accounts that wrote them: ingesting batches past a source's cursor, the detection
window after a restart, retention, and the lookups moderators make."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from domain.lookups import PostLine, StoredAccount
from domain.models import Author, Post
from domain.records import format_time, parse_post, post_to_record
from storage.database import Database, from_db_time, to_db_time


class Posts(Database):
    """Posts, accounts and cursors."""

    def cursor(self, source: str) -> str | None:
        """Where `source` stopped; None before its first batch."""
        row = self.db.execute("SELECT cursor FROM cursors WHERE source = ?", [source]).fetchone()
        return row[0] if row else None

    def ingest(self, source: str, posts: Sequence[Post], next_cursor: str | None, skipped: int = 0,
               keep_cursor: bool = False) -> int:
        """Store a batch and advance the source's cursor in one transaction; return how many posts were new.

        Posts already stored are left as they are, so fetching the same batch twice changes nothing. Posts the
        platform pushed (`keep_cursor`) are counted for the source but leave its cursor where polling put it.
        """
        now = self.now()
        ids = list(dict.fromkeys(post.id for post in posts))
        with self.atomic():
            # counted among the batch's own ids: a count of the whole table costs ~20 ms a million posts
            known = self.db.execute("SELECT count(*) FROM posts WHERE id IN (SELECT value FROM json_each(?))",
                                    [orjson.dumps(ids).decode()]).fetchone()[0]
            self.db["posts"].insert_all(
                (
                    {"id": p.id, "source": source, "created_at": to_db_time(p.created_at),
                     "author_id": p.author.id, "text": p.text,
                     "record": orjson.dumps(post_to_record(p)).decode(), "ingested_at": now}
                    for p in posts
                ),
                pk="id", ignore=True, batch_size=500,
            )
            new = len(ids) - known
            self._upsert_accounts(posts)
            self.db.execute(
                """INSERT INTO cursors (source, cursor, updated_at, posts_total, skipped_total)
                   VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT(source) DO UPDATE SET cursor = CASE WHEN ? THEN cursor ELSE excluded.cursor END,
                     updated_at = excluded.updated_at, posts_total = posts_total + excluded.posts_total,
                     skipped_total = skipped_total + excluded.skipped_total""",
                [source, None if keep_cursor else next_cursor, now, new, skipped, keep_cursor],
            )
        return new

    def _upsert_accounts(self, posts: Sequence[Post]) -> None:
        latest: dict[str, Post] = {}
        for post in posts:
            seen = latest.get(post.author.id)
            if seen is None or post.created_at >= seen.created_at:
                latest[post.author.id] = post
        first_seen = dict(self.db.execute(
            "SELECT id, first_seen FROM accounts WHERE id IN (SELECT value FROM json_each(?))",
            [orjson.dumps(list(latest)).decode()],
        ).fetchall())
        rows = []
        for account_id, post in latest.items():
            author = post.author
            seen_at = to_db_time(post.created_at)
            rows.append({
                "id": author.id, "handle": author.handle, "display_name": author.display_name,
                "created_at": to_db_time(author.created_at) if author.created_at else None,
                "posts_count": author.posts_count, "followers_count": author.followers_count,
                "following_count": author.following_count,
                "default_avatar": None if author.default_avatar is None else int(author.default_avatar),
                "url": author.url, "first_seen": min(first_seen.get(account_id) or seen_at, seen_at),
                "last_seen": seen_at,
            })
        self.db["accounts"].upsert_all(rows, pk="id", batch_size=500)

    def update_accounts(self, authors: Sequence[Author]) -> int:
        """Store facts read (again) from the platform: each account's row and the author of each of its stored
        posts, in one transaction, so a restart's detection window has them too. A fact the platform did not
        give is kept; only accounts already stored change (first and last seen stay). Returns how many did."""
        with self.atomic():
            changed = 0
            for author in authors:
                avatar = None if author.default_avatar is None else int(author.default_avatar)
                changed += self.db.execute(
                    """UPDATE accounts SET handle = coalesce(?, handle), display_name = coalesce(?, display_name),
                       created_at = coalesce(?, created_at), posts_count = coalesce(?, posts_count),
                       followers_count = coalesce(?, followers_count), following_count = coalesce(?, following_count),
                       default_avatar = coalesce(?, default_avatar), url = coalesce(?, url) WHERE id = ?""",
                    [author.handle or None, author.display_name or None,
                     to_db_time(author.created_at) if author.created_at else None, author.posts_count,
                     author.followers_count, author.following_count, avatar, author.url, author.id],
                ).rowcount
                facts = [(path, value) for path, value in (
                    ("$.author.created_at", format_time(author.created_at) if author.created_at else None),
                    ("$.author.posts_count", author.posts_count), ("$.author.followers_count", author.followers_count),
                    ("$.author.following_count", author.following_count),
                    ("$.author.default_avatar", None if avatar is None else orjson.dumps(bool(avatar)).decode()),
                ) if value is not None]
                if facts:
                    setters = ", ".join("?, json(?)" if path.endswith("avatar") else "?, ?" for path, _ in facts)
                    self.db.execute(f"UPDATE posts SET record = json_set(record, {setters}) WHERE author_id = ?",  # noqa: S608
                                    [*(part for fact in facts for part in fact), author.id])
        return changed

    def posts_since(self, since: datetime) -> list[Post]:
        """Posts created at or after `since`, oldest first: the detection window after a restart."""
        rows = self.db.execute(
            "SELECT record FROM posts WHERE created_at >= ? ORDER BY created_at", [to_db_time(since)]
        )
        return [parse_post(orjson.loads(record)) for (record,) in rows]

    def newest_post_time(self) -> datetime | None:
        """Creation time of the newest stored post."""
        return from_db_time(self.db.execute("SELECT max(created_at) FROM posts").fetchone()[0])

    def purge_posts(self, before: datetime) -> int:
        """Delete posts created before `before` that no cluster holds, and accounts left with nothing.

        Clusters, their posts, decisions and the audit log are kept. Returns the posts deleted.
        """
        cutoff = to_db_time(before)
        with self.atomic():
            deleted = self.db.execute(
                "DELETE FROM posts WHERE created_at < ? AND id NOT IN (SELECT post_id FROM cluster_members)", [cutoff]
            ).rowcount
            self.db.execute(
                """DELETE FROM accounts WHERE last_seen < ? AND id NOT IN (SELECT author_id FROM posts)
                   AND id NOT IN (SELECT account_id FROM cluster_members)""", [cutoff],
            )
        return deleted

    def find_account(self, ref: str) -> StoredAccount | None:
        """An account by id or by handle (with or without '@', any case), or None."""
        ref = ref.strip()
        row = self.db.execute(
            "SELECT id, handle, created_at, first_seen FROM accounts WHERE id = ? OR handle = ? COLLATE NOCASE "
            "ORDER BY id = ? DESC LIMIT 1", [ref, ref.removeprefix("@"), ref],
        ).fetchone()
        if row is None:
            return None
        account_id, handle, created_at, first_seen = row
        return StoredAccount(account_id, handle or account_id, from_db_time(created_at), from_db_time(first_seen))

    def account_posts(self, account_id: str, limit: int = 5) -> list[PostLine]:
        """An account's most recent posts."""
        rows = self.db.execute(
            "SELECT id, created_at, text FROM posts WHERE author_id = ? ORDER BY created_at DESC LIMIT ?",
            [account_id, limit],
        )
        return [PostLine(post_id, datetime.fromisoformat(created_at), text) for post_id, created_at, text in rows]

    def search_posts(self, text: str, limit: int = 10) -> list[PostLine]:
        """Recent posts matching `text` by full-text search, each with its author's handle and its clusters.

        The query is quoted, so FTS syntax in what a moderator types is searched for, not interpreted;
        control and format characters (a NUL ends FTS's string early) are dropped first.
        """
        text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
        if not text:
            return []
        found = []
        for post in self.db["posts"].search(text, columns=["id", "created_at", "author_id", "text"],
                                            order_by="created_at desc", limit=limit, quote=True):
            handle = (self.db.execute("SELECT handle FROM accounts WHERE id = ?", [post["author_id"]])
                      .fetchone() or [post["author_id"]])[0]
            clusters = [row[0] for row in self.db.execute(
                "SELECT cluster_id FROM cluster_members WHERE post_id = ? ORDER BY cluster_id", [post["id"]]
            )]
            found.append(PostLine(post["id"], datetime.fromisoformat(post["created_at"]), post["text"], handle,
                                  clusters))
        return found
