"""Pronunciations: words the speech engine says wrongly, and how to say them.

A lexicon maps a word to a respelling, such as ``piriformis: pirri formiss``.
It is applied to each line after the templates, on whole words, whatever their
case, keeping a capital first letter; only the engine hears the respelling: the
script, transcripts and chapters show the words as written. Respelling works the
same for every engine (Piper phonemises with espeak-ng too). Spaced lower-case
respellings work best: espeak-ng reads an all-capitals syllable as letters, and
gives each hyphenated chunk a full stress.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from voiceguide.errors import RoutineError
from voiceguide.files import read_user_text
from voiceguide.text.yamlfile import load_yaml

MAX_LEXICON_BYTES = 200_000
MAX_ENTRY_CHARS = 100


@dataclass(frozen=True)
class Lexicon:
    """Words and their respellings, in the order they were given (later ones win)."""

    entries: tuple[tuple[str, str], ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def of(*mappings: Mapping[str, str]) -> Lexicon:
        merged: dict[str, str] = {}
        for mapping in mappings:
            for word, said in mapping.items():
                merged.pop(word.lower(), None)
                merged[word.lower()] = said
        entries = tuple(merged.items())
        if not entries:
            return Lexicon()
        words = sorted(
            merged, key=len, reverse=True
        )  # the longest first: "lower back" before "back"
        alternatives = "|".join(re.escape(w) for w in words)
        pattern = re.compile(rf"(?<![\w'-])(?:{alternatives})(?![\w'-])", re.IGNORECASE)
        return Lexicon(entries, pattern)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def apply(self, text: str) -> str:
        """``text`` as the engine should hear it."""
        if self._pattern is None:
            return text
        said = dict(self.entries)

        def respell(match: re.Match[str]) -> str:
            word = match.group(0)
            out = said[word.lower()]
            return out[:1].upper() + out[1:] if word[:1].isupper() else out

        return self._pattern.sub(respell, text)


def check_entries(entries: Mapping[str, str]) -> dict[str, str]:
    """Validate a ``pronounce:`` mapping; the error says which entry and what to write."""
    for word, said in entries.items():
        if not isinstance(word, str) or not isinstance(said, str):
            raise ValueError(
                f"{word!r}: write each entry as word: how to say it, such as "
                "piriformis: pirri formiss"
            )
        if not word.strip() or not said.strip():
            raise ValueError(f"{word!r}: a word and its respelling must not be empty")
        if len(word) > MAX_ENTRY_CHARS or len(said) > MAX_ENTRY_CHARS:
            raise ValueError(
                f"{word[:20]!r}...: an entry may be at most {MAX_ENTRY_CHARS} characters"
            )
    return {w.strip(): s.strip() for w, s in entries.items()}


def load_lexicon(path: Path) -> dict[str, str]:
    """A lexicon file: YAML, one ``word: how to say it`` a line."""
    text = read_user_text(path, "lexicon", MAX_LEXICON_BYTES, RoutineError)
    data, _ = load_yaml(text, str(path), RoutineError)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RoutineError(
            f"{path}: a lexicon is a list of lines such as 'piriformis: pirri formiss'"
        )
    try:
        return check_entries(data)
    except ValueError as e:
        raise RoutineError(f"{path}: {e}") from None
