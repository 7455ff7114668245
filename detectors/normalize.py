"""Text normalisation so trivially edited copies of a message compare equal."""

from __future__ import annotations

import re
import unicodedata

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HASHTAG = re.compile(r"#\w+")
_RT_PREFIX = re.compile(r"^(?:rt\s+)?(?:@\w+:?\s+)*")
_NON_WORD = re.compile(r"[\W_]+")


def normalize_text(text: str) -> str:
    """Fold case, compatibility forms and invisible characters; drop links, hashtags, punctuation, RT.

    The result is a space-separated run of word characters: the form exact grouping keys on.
    """
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf").casefold()
    folded = _HASHTAG.sub(" ", _URL.sub(" ", folded))
    folded = _RT_PREFIX.sub("", folded.strip())
    return " ".join(_NON_WORD.sub(" ", folded).split())
