"""Turn a post's HTML (Mastodon `content`, Discourse `cooked`) into plain text and its links.

Detection compares what people read, so markup goes, paragraphs and line breaks stay, and the
links people posted (not mentions or hashtags) are kept apart for the co-link signal.
"""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCKS = {"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
_NOT_LINKS = {"mention", "hashtag", "u-url"}


class _TextAndLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS and self.parts:
            self.parts.append("\n\n")
        elif tag == "a":
            values = dict(attrs)
            classes = set((values.get("class") or "").split())
            href = values.get("href") or ""
            if href.startswith(("http://", "https://")) and not classes & _NOT_LINKS:
                self.links.append(href)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> tuple[str, list[str]]:
    """Plain text of `html` with paragraph breaks, and the external links in it, in order, once each."""
    parser = _TextAndLinks()
    parser.feed(html or "")
    parser.close()
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(lines).strip(), list(dict.fromkeys(parser.links))
