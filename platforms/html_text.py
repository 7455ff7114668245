"""Turn a post's HTML (Mastodon `content`, Discourse `cooked`) into plain text and its links.

Detection compares what people read, so markup goes, paragraphs and line breaks stay, and the
links people posted (not mentions or hashtags) are kept apart for the co-link signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
_NOT_LINKS = {"mention", "hashtag", "u-url"}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS and self.parts:
            self.parts.append("\n\n")
        elif tag == "img":
            values = dict(attrs)
            if values.get("src") and "emoji" not in (values.get("class") or ""):
                self.images.append(values["src"] or "")
        elif tag == "a":
            values = dict(attrs)
            classes = set((values.get("class") or "").split())
            href = values.get("href") or ""
            if href.startswith(("http://", "https://")) and not classes & _NOT_LINKS:
                self.links.append(href)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


@dataclass(frozen=True)
class HtmlContent:
    """What a post's HTML says: its plain text, the links in it, and its images (emoji left out)."""

    text: str
    links: list[str]
    images: list[str]


def parse_html(html: str) -> HtmlContent:
    """Plain text of `html` with paragraph breaks, and its external links and images, in order, once each."""
    parser = _Reader()
    parser.feed(html or "")
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return HtmlContent("\n".join(lines).strip(), list(dict.fromkeys(parser.links)), list(dict.fromkeys(parser.images)))
