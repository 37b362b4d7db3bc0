"""Normalising a text for matching: HTML tags dropped, invisible characters and apostrophes folded, words
lower-cased and separated by single spaces. The triage data file's phrases and the user's text go through the
same :func:`normalise`, so a phrase matches however the text was pasted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

# `html` (its entity table) and `unicodedata` are loaded when a text needs them: `liferaft diagnose` is measured
# against `liferaft --version` (issue 18).


class _Lazy:
    """A regular expression compiled when first used (some take ~2 ms to compile)."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def _pattern(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(*self._args)
        return compiled

    # The methods of re.Pattern that the classifier uses, spelled out so they keep their types.
    def search(self, string: str) -> re.Match[str] | None:
        return self._pattern().search(string)

    def finditer(self, string: str) -> Iterator[re.Match[str]]:
        return self._pattern().finditer(string)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str) -> str:
        return self._pattern().sub(repl, string)


#: Characters that are invisible in a browser yet split a word: soft hyphen, zero-width space and joiners, BOM.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"
_INVISIBLE_RE = _Lazy(f"[{_INVISIBLE}]")
#: HTML elements that end a line of text (their tags separate sentences) and ones that run inside one.
_BLOCK_TAGS = frozenset(re.split(
    r"\s+", "address article aside blockquote body br center dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 head header hr html li main nav ol p pre section summary table tbody td "
    "tfoot th thead title tr ul button label option select textarea"))
_INLINE_TAGS = frozenset(re.split(
    r"\s+", "a abbr b bdi bdo cite code data del dfn em font i img input ins kbd mark meta link q s samp small span "
    "strong sub sup svg path time u var wbr script style noscript"))
_TAG = _Lazy(r"<(/?)([a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9]+)*)((?:\s[^<>]{0,500})?)\s*/?>|<!--.{0,2000}?-->"
                  r"|<!doctype[^<>]{0,200}>", re.IGNORECASE | re.DOTALL)
#: What a block tag becomes: a mark the sentence splitter sees; it is not a word, so normalising drops it.
_BREAK = " ¶ "
_APOSTROPHES = "'’ʼ`´"
#: (The apostrophe comes first and the look-behind after it, so the search skips to apostrophes: ~20× faster on a log.)
_APOSTROPHE = _Lazy(r"['’ʼ`´](?<=\w['’ʼ`´])(?=\w)")
#: A possessive after a number ("GPT-4's"): the name without it, so "gpt 4" still reads as "gpt 4".
_NUMBER_POSSESSIVE = _Lazy(r"['’ʼ](?<=\d['’ʼ])s\b")
_NON_WORD = re.compile(r"[\W_]+")


#: ASCII bytes that are not letters or digits, to spaces; other bytes (UTF-8 of anything else) as they are.
_ASCII_TABLE = bytes(b if chr(b).isascii() and chr(b).isalnum() else (32 if b < 128 else b) for b in range(256))
#: Scripts written without spaces between words (Japanese, Chinese, Korean).
_CJK = _Lazy(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_CJK_EDGE = _Lazy(r"(?<=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])(?=[a-z0-9])"
                       r"|(?<=[a-z0-9])(?=[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])")


def _has_cjk(text: str) -> bool:
    if text.isascii():
        return False
    if len(text) < 200:  # a phrase: no need to compile the expression (~3 ms)
        return any("\u3040" <= char <= "\u30ff" or "\u3400" <= char <= "\u9fff" or "\uac00" <= char <= "\ud7af"
                   for char in text)
    return _CJK.search(text) is not None


def _tag(hit: re.Match[str]) -> str:
    name = hit.group(2)
    if name is None:  # a comment or a doctype
        return " "
    name = name.lower()
    if name in _BLOCK_TAGS:
        return _BREAK
    if name in _INLINE_TAGS or "-" in name:  # a custom element (<cib-message>) is a tag too
        return " "
    return hit.group(0)  # "<Network error>", "<5 rows>": text between angle brackets, not a tag


def _plain(text: str) -> str:
    """Real HTML tags and entities out, invisible characters out, Unicode folded (NFKC), lower case;
    punctuation kept. Block tags leave a sentence break (¶)."""
    if any(char in text for char in _INVISIBLE):
        text = _INVISIBLE_RE.sub("", text)
    if "<" in text:
        text = _TAG.sub(_tag, text)
    if "&" in text:
        import html

        text = html.unescape(text)
    if text.isascii():
        text = text.lower()
    else:
        import unicodedata

        text = unicodedata.normalize("NFKC", text).casefold()
        if any(char in text for char in _INVISIBLE):  # an entity (&shy;) may have made one
            text = _INVISIBLE_RE.sub("", text)
    if any(char in text for char in _APOSTROPHES):
        if text.isascii() and text.count("'") + text.count("`") < 1_000:
            text = _drop_ascii_apostrophes(text)
        else:
            text = _APOSTROPHE.sub("", _NUMBER_POSSESSIVE.sub("", text))
    return text


_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _drop_ascii_apostrophes(text: str) -> str:
    """What ``_APOSTROPHE.sub("", _NUMBER_POSSESSIVE.sub("", text))`` makes of an ASCII text with a few
    apostrophes, without compiling them (~1 ms)."""
    cuts: list[tuple[int, int]] = []  # "'s" after a number
    index = text.find("'")
    while index >= 0:
        if (index > 0 and text[index - 1].isdigit() and text[index + 1:index + 2] == "s"
                and text[index + 2:index + 3] not in _ASCII_WORD):
            cuts.append((index, index + 2))
            index = text.find("'", index + 2)
        else:
            index = text.find("'", index + 1)
    if cuts:
        text = "".join(text[start:end] for start, end in zip([0] + [end for _s, end in cuts],
                                                             [start for start, _e in cuts] + [len(text)],
                                                             strict=True))
    drop = []
    for mark in "'`":
        index = text.find(mark)
        while index >= 0:
            if 0 < index < len(text) - 1 and text[index - 1] in _ASCII_WORD and text[index + 1] in _ASCII_WORD:
                drop.append(index)
            index = text.find(mark, index + 1)
    drop.sort()
    if drop:
        text = "".join(text[start:end] for start, end in zip([0] + [index + 1 for index in drop],
                                                             [*drop, len(text)], strict=True))
    return text


def _words(plain: str) -> str:
    """Words of already plain text, separated by single spaces. Fast for long ASCII text (a pasted log)."""
    data = plain.encode("utf-8", "surrogatepass").translate(_ASCII_TABLE)
    words = b" ".join(data.split()).decode("utf-8", "surrogatepass")
    if not words.isascii():
        words = _NON_WORD.sub(" ", words).strip()
        if _has_cjk(words):  # "chatgptを利用" or "出现network error": a Latin word beside CJK is a word of its own
            words = _CJK_EDGE.sub(" ", words)
    return words


def normalise(text: str) -> str:
    """Text as the classifier compares it: lower case, words separated by single spaces, nothing else.

    HTML tags and entities are removed, apostrophes inside words dropped ("can't" → "cant"), soft hyphens and
    zero-width characters dropped, any run of punctuation, symbols or white space (line breaks too) becomes one
    space.
    """
    return _words(_plain(text))
