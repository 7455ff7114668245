"""Siblings of a flagged cluster: local accounts created in its creation window that share a sign-up IP or a
non-public e-mail domain with its accounts, dormant ones included. Pure: sign-ups in, siblings with their
evidence out; the evidence is counts, never the IP or address itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.admin import SignUp

PUBLIC_EMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "ymail.com",
    "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "pm.me", "tutanota.com",
    "tuta.io", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "mail.ru", "yandex.ru", "yandex.com",
    "zoho.com", "fastmail.com", "posteo.de", "mailbox.org", "qq.com", "163.com", "126.com", "naver.com",
    "hey.com", "duck.com", "disroot.org", "riseup.net", "t-online.de", "orange.fr", "free.fr", "laposte.net",
    "libero.it", "seznam.cz", "wp.pl", "o2.pl", "interia.pl",
})
"""Free mail providers: sharing one of these ties nobody together."""
COMMON_DOMAIN_SHARE = 0.5
"""An e-mail domain more than this share of the window's accounts use is the instance's usual one (a company's
own instance), not a campaign's: it ties nobody together either."""


@dataclass(frozen=True, slots=True)
class Sibling:
    """An account outside the cluster and how many of the cluster's accounts share its sign-up IP and e-mail domain."""

    sign_up: SignUp
    shared_ip: int = 0
    shared_email_domain: int = 0

    @property
    def note(self) -> str:
        """What the card says of it: counts only, never the IP or the address."""
        parts = []
        if self.shared_ip:
            parts.append(f"shares a sign-up IP with {_accounts(self.shared_ip)}")
        if self.shared_email_domain:
            parts.append(f"shares an e-mail domain with {_accounts(self.shared_email_domain)}")
        if self.sign_up.posts_count == 0:
            parts.append("never posted")
        return "; ".join(parts)


def _accounts(count: int) -> str:
    return f"{count} flagged account{'' if count == 1 else 's'}"


def find_siblings(flagged: Sequence[SignUp], candidates: Sequence[SignUp], since: datetime, until: datetime,
                  exclude: Collection[str] = ()) -> list[Sibling]:
    """The candidates created between `since` and `until`, not in `exclude`, that share a sign-up IP or a
    non-public e-mail domain with the flagged accounts; most shared first."""
    window = [c for c in candidates if since <= c.created_at <= until]
    ips = Counter(s.ip for s in flagged if s.ip)
    usual = Counter(c.email_domain for c in window if c.email_domain)
    domains = Counter(s.email_domain for s in flagged if s.email_domain and s.email_domain not in PUBLIC_EMAIL_DOMAINS
                      and usual[s.email_domain] <= COMMON_DOMAIN_SHARE * len(window))
    skip = set(exclude) | {s.account_id for s in flagged}
    siblings = [Sibling(c, ips.get(c.ip, 0) if c.ip else 0, domains.get(c.email_domain, 0) if c.email_domain else 0)
                for c in window if c.account_id not in skip]
    found = [s for s in siblings if s.shared_ip or s.shared_email_domain]
    return sorted(found, key=lambda s: (-(s.shared_ip + s.shared_email_domain), s.sign_up.created_at,
                                        s.sign_up.account_id))
