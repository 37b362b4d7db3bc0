"""Which known failure an error message describes: the symptoms it matches, ranked, with the words that matched.

The text may be anything a user pastes from the browser: a banner with its HTML, a message in the middle of a
paragraph, broken over lines, in any case. Both the text and the data file's phrases are normalised the same
way (:func:`normalise`) and phrases match whole words only. HTTP status codes count only where they read as a
status ("error 429", "429 Too Many Requests", "HTTP/1.1 500"), never inside a longer number, a price or a count.
Text that matches nothing gets an empty list: an honest "no known match", never a guess.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from liferaft.core.diagnose.knowledge import Knowledge, Symptom, load_knowledge

#: Only this much of a pasted text is read: an error message is short; a pasted log is cut.
MAX_TEXT = 200_000

_TAG = re.compile(r"<[^<>]{0,500}>")
_APOSTROPHE = re.compile(r"(?<=\w)['’ʼ`´](?=\w)")
_NON_WORD = re.compile(r"[\W_]+")
_SPACE = re.compile(r"\s+")

#: What a pattern match counts for, and a code read as a status.
PATTERN_WEIGHT = 0.7
CODE_WEIGHT = 0.8
#: How much a symptom's score keeps when one of its ``excludes`` phrases is present.
EXCLUDED_FACTOR = 0.4


@dataclass(frozen=True, slots=True)
class Match:
    symptom: Symptom
    score: float
    """0..1: how sure the match is (more and longer matching phrases score higher)."""
    matched: list[str]
    """The words in the text that matched, as they read once normalised (e.g. "session expired", "error 429")."""

    @property
    def layer(self) -> str:
        return self.symptom.layer

    def to_json(self) -> dict[str, object]:
        return {"symptom": self.symptom.id, "title": self.symptom.title, "cause": self.symptom.cause,
                "layer": self.symptom.layer, "next_steps": self.symptom.next_steps, "score": self.score,
                "matched": list(self.matched)}


def _plain(text: str) -> str:
    """HTML tags and entities out, Unicode folded (NFKC), lower case; punctuation kept."""
    text = text[:MAX_TEXT]
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text).casefold()
    return _APOSTROPHE.sub("", text)


def normalise(text: str) -> str:
    """Text as the classifier compares it: lower case, words separated by single spaces, nothing else.

    HTML tags and entities are removed, apostrophes inside words dropped ("can't" → "cant"), any run of
    punctuation, symbols or white space (line breaks too) becomes one space.
    """
    return _SPACE.sub(" ", _NON_WORD.sub(" ", _plain(text))).strip()


_UNITS = (r"rows?|records?|lines?|items?|files?|bytes?|kb|mb|gb|tb|units?|dollars?|usd|eur|gbp|euros?|"
          r"pounds?|people|users?|customers?|orders?|ms|seconds?|s|km|m|%|percent")
_BEFORE = r"\b(?:https?(?:/\d(?:\.\d)?)?|error|err|status|status code|code|response|returned|got an?)"
_AFTER = (r"(?:too many requests|too many|rate limit|internal server error|internal error|server error|bad gateway|"
          r"service unavailable|gateway time-?out|error\b|status\b)")


@cache
def _code_pattern(code: int) -> re.Pattern[str]:
    number = rf"(?<![\w$€£¥.,#/-]){code}(?!\w|[.,]\d)(?!\s*(?:{_UNITS})\b)"
    return re.compile(
        rf"{_BEFORE}[\s:#=()\[\]'\"-]{{0,4}}{number}"  # error 429, status code: 429, HTTP/1.1 500
        rf"|{number}[\s:()\[\]'\"-]{{0,3}}{_AFTER}"  # 429 Too Many Requests, 500 error
        rf"|^[\W]*{number}[\W]*$"  # the code alone
    )


def _contains(haystack: str, phrase: str) -> bool:
    return f" {phrase} " in haystack


def _weight(phrase: str) -> float:
    """Longer phrases say more: one word 0.55, two 0.65, three 0.75 … at most 0.9."""
    return min(0.9, 0.45 + 0.1 * len(phrase.split()))


def _match_symptom(symptom: Symptom, plain: str, padded: str, words: str) -> Match | None:
    found: list[tuple[str, float]] = []
    phrases = [phrase for phrase in symptom.phrases if _contains(padded, phrase)]
    # "session expired" inside "code interpreter session expired" is the same evidence, counted once.
    phrases = [phrase for phrase in phrases
               if not any(other != phrase and _contains(f" {other} ", phrase) for other in phrases)]
    found += [(phrase, _weight(phrase)) for phrase in phrases]
    for pattern in symptom.patterns:
        hit = pattern.search(words)
        if hit and not any(_contains(f" {hit.group(0).strip()} ", phrase) or _contains(f" {phrase} ", hit.group(0))
                           for phrase in phrases):
            found.append((hit.group(0).strip(), PATTERN_WEIGHT))
    for code in symptom.status_codes:
        hit = _code_pattern(code).search(plain)
        if hit:
            shown = _SPACE.sub(" ", hit.group(0)).strip(" :#=()[]'\"-")
            found.append((shown or str(code), CODE_WEIGHT))
    if not found:
        return None
    miss = 1.0
    for _text, weight in found:
        miss *= 1.0 - weight
    score = 1.0 - miss
    if any(_contains(padded, phrase) for phrase in symptom.excludes):
        score *= EXCLUDED_FACTOR
    return Match(symptom=symptom, score=round(score, 3), matched=list(dict.fromkeys(text for text, _ in found)))


def classify(text: str, knowledge: Knowledge | None = None) -> list[Match]:
    """The symptoms ``text`` matches, best first (ties keep the data file's order); empty when none does."""
    knowledge = knowledge or load_knowledge()
    plain = _SPACE.sub(" ", _plain(text)).strip()
    words = normalise(text)
    if not words:
        return []
    padded = f" {words} "
    matches = []
    for order, symptom in enumerate(knowledge.symptoms):
        if symptom.catchall:
            continue
        match = _match_symptom(symptom, plain, padded, words)
        if match is not None:
            matches.append((order, match))
    matches.sort(key=lambda item: (-item[1].score, item[0]))
    return [match for _order, match in matches]
