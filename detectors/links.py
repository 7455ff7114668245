"""Canonical links: the same page shared with different tracking parameters compares equal."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "igshid", "mc_cid", "mc_eid", "ref", "ref_src", "ref_url",
     "si", "s", "t", "feature", "share", "cmpid", "yclid", "_hsenc", "_hsmi", "mkt_tok", "spm"}
)
"""Query keys that identify who shared or clicked, not what page it is (plus every `utm_*`)."""


def canonical_url(url: str) -> str:
    """Lower-case scheme-less host and path, no `www.`, no fragment, no tracking parameters.

    A link too malformed to parse ('http://[oops') is compared as written, without its scheme.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip().lower().partition("://")[2] or url.strip().lower()
    host = parts.netloc.lower().removeprefix("www.")
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMS
    ]
    path = parts.path.rstrip("/")
    return host + path + ("?" + urlencode(sorted(query)) if query else "")
