"""Pure: what a suspended campaign leaves as fingerprints, which new posts match them, and which accounts are a
cluster's siblings by their sign-ups (counts only, never the IP or address)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detectors.fingerprints import campaign_fingerprints, match_fingerprints
from detectors.siblings import find_siblings
from domain.admin import SignUp
from domain.fingerprints import Fingerprint, FingerprintKind
from domain.models import Author, Media, Post

T0 = datetime(2026, 8, 1, tzinfo=UTC)
CAMPAIGN = "Nobody in this race has done more for nurses and teachers than Candidate X, and it is not close"


def _post(post_id: str, text: str, author: str = "a", media: tuple[Media, ...] = ()) -> Post:
    return Post(id=post_id, created_at=T0, text=text, author=Author(id=author, handle=author), media=media)


def _known(items: list[tuple[FingerprintKind, str]]) -> list[Fingerprint]:
    return [Fingerprint(n, kind, value, "c-1", T0, T0 + timedelta(days=30)) for n, (kind, value) in enumerate(items)]


def test_a_campaign_leaves_its_images_and_specific_texts_but_not_its_stock_phrases():
    flyer = Media(url="u", sha256="AB" * 32, phash="c3c3c3c3c3c3c3c3")
    items = campaign_fingerprints([_post("1", CAMPAIGN + " #VoteX", media=(flyer,)), _post("2", CAMPAIGN + "!!"),
                                   _post("3", "good morning everyone")])
    kinds = [kind for kind, _ in items]
    assert kinds.count(FingerprintKind.IMAGE_SHA256) == 1 and kinds.count(FingerprintKind.IMAGE_PHASH) == 1
    assert (FingerprintKind.IMAGE_SHA256, "ab" * 32) in items
    texts = [value for kind, value in items if kind is FingerprintKind.TEXT]
    assert len(texts) == 1 and "good morning" not in texts[0]


def test_new_posts_match_by_file_hash_near_perceptual_hash_or_near_copy_text_and_nothing_else():
    known = _known([(FingerprintKind.IMAGE_SHA256, "ab" * 32), (FingerprintKind.IMAGE_PHASH, "c3c3c3c3c3c3c3c3"),
                    (FingerprintKind.TEXT, campaign_fingerprints([_post("x", CAMPAIGN)])[0][1])])
    posts = [
        _post("same-file", "look", "u1", (Media(sha256="AB" * 32),)),
        _post("re-encoded", "look", "u2", (Media(phash="c3c3c3c3c3c3c3c0"),)),  # 2 bits away
        _post("edited", "nobody in this race did more for nurses & teachers than candidate X and its not close",
              "u3"),
        _post("other-picture", "look", "u4", (Media(phash="0f0f0f0f0f0f0f0f"),)),
        _post("organic", "Our nurses and teachers deserve better pay, write to your representative", "u5"),
    ]
    matched = {m.post.id: m.fingerprint.kind for m in match_fingerprints(posts, known)}
    assert matched == {"same-file": FingerprintKind.IMAGE_SHA256, "re-encoded": FingerprintKind.IMAGE_PHASH,
                       "edited": FingerprintKind.TEXT}


def _sign_up(account: str, hours: float, ip: str | None, email_domain: str | None, posts: int = 2) -> SignUp:
    return SignUp(account, account, T0 + timedelta(hours=hours), ip, email_domain, posts)


def test_siblings_share_a_sign_up_ip_or_a_rare_mail_domain_inside_the_window_and_say_so_in_counts():
    flagged = [_sign_up("f1", 1, "10.0.0.1", "burner.example"), _sign_up("f2", 2, "10.0.0.1", "gmail.com"),
               _sign_up("f3", 3, "10.0.0.2", "burner.example")]
    candidates = [
        *flagged,
        _sign_up("ip-twin", 4, "10.0.0.1", "gmail.com", posts=0),
        _sign_up("mail-twin", 5, "10.9.9.9", "burner.example"),
        _sign_up("free-mail-only", 5, "10.8.8.8", "gmail.com"),
        _sign_up("too-late", 90, "10.0.0.1", "burner.example"),
        _sign_up("already-batched", 6, "10.0.0.1", None),
        *[_sign_up(f"regular{n}", 6, f"10.1.0.{n}", None) for n in range(4)],
    ]
    siblings = find_siblings(flagged, candidates, T0, T0 + timedelta(hours=12), exclude={"already-batched"})
    assert [s.sign_up.account_id for s in siblings] == ["ip-twin", "mail-twin"]
    assert siblings[0].note == "shares a sign-up IP with 2 flagged accounts; never posted"
    assert siblings[1].note == "shares an e-mail domain with 2 flagged accounts"


def test_the_instances_usual_mail_domain_ties_nobody_together():
    flagged = [_sign_up("f1", 1, None, "company.example")]
    window = [_sign_up(f"staff{n}", n, None, "company.example") for n in range(10)]
    assert find_siblings(flagged, window, T0, T0 + timedelta(days=1)) == []
