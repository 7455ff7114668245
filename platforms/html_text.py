"""Turn a post's HTML (Mastodon `content`, Discourse `cooked`) into the author's own text, links and images.

Detection compares what the author wrote, so markup goes, paragraphs and line breaks stay, and only
what the author put in the post counts: not what it quotes of someone else (a Discourse quote, with
the quoted person's avatar), not a link preview's title, icon and thumbnail (a onebox: only the
link it previews is the author's), not emoji or avatars, and not the lightbox link Discourse wraps
around an uploaded image (the image is the author's; its link is not a link they posted).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_NOT_LINKS = {"mention", "mention-group", "hashtag", "hashtag-cooked", "u-url", "lightbox"}
"""Anchors that are not links the author posted: mentions, hashtags, an uploaded image's lightbox."""
_NOT_IMAGES = {"emoji", "avatar", "site-icon", "thumbnail", "onebox-avatar"}
"""Images that are not the author's: emoji, people's avatars, a preview's site icon and thumbnail."""


class _Kind(Enum):
    """What an element's content is to the post."""

    OWN = "own"
    QUOTED = "quoted"
    """Someone else's words (a Discourse quote): no text, links or images of it count."""
    PREVIEW = "preview"
    """A link preview (onebox): its text and images are the linked page's; only its link counts."""
    CAPTION = "caption"
    """An uploaded image's caption (file name and size): not text the author wrote."""


def _kind(tag: str, classes: set[str]) -> _Kind | None:
    """The kind an element starts, or None when it keeps its parent's."""
    if tag == "aside" and "quote" in classes:
        return _Kind.QUOTED
    if any("onebox" in name for name in classes) or "lazy-video-container" in classes:
        return _Kind.PREVIEW
    if "meta" in classes:
        return _Kind.CAPTION
    return None


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self._open: list[tuple[str, _Kind, bool]] = []
        """Open elements: tag, the kind of their content, and (in a preview) whether its link was taken."""

    @property
    def _where(self) -> tuple[_Kind, bool]:
        return (self._open[-1][1], self._open[-1][2]) if self._open else (_Kind.OWN, False)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = set((values.get("class") or "").split())
        kind, linked = self._where
        started = _kind(tag, classes)
        if started is not None and kind is _Kind.OWN:
            kind, linked = started, False
            source = values.get("data-onebox-src") or ""
            if started is _Kind.PREVIEW and source.startswith(("http://", "https://")):
                self.links.append(source)
                linked = True
        if tag == "br" and kind is _Kind.OWN:
            self.parts.append("\n")
        elif tag in _BLOCKS and self.parts and kind is _Kind.OWN:
            self.parts.append("\n\n")
        elif tag == "img" and kind is _Kind.OWN:
            src = values.get("src") or ""
            if src and not src.startswith("data:") and not classes & _NOT_IMAGES:
                self.images.append(src)
        elif tag == "a" and (kind is _Kind.OWN or (kind is _Kind.PREVIEW and not linked)):
            href = values.get("href") or ""
            if href.startswith(("http://", "https://")) and not classes & _NOT_LINKS:
                self.links.append(href)
        if tag not in _VOID:
            self._open.append((tag, kind, linked))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:  # unclosed elements inside it end with it, as browsers do
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if self._where[0] is _Kind.OWN:
            self.parts.append(data)


@dataclass(frozen=True)
class HtmlContent:
    """What the author put in a post's HTML: its plain text, the links they posted, and their images."""

    text: str
    links: list[str]
    images: list[str]


def parse_html(html: str) -> HtmlContent:
    """The author's plain text of `html` with paragraph breaks, and their links and images, in order, once each."""
    parser = _Reader()
    parser.feed(html or "")
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return HtmlContent("\n".join(lines).strip(), list(dict.fromkeys(parser.links)), list(dict.fromkeys(parser.images)))
