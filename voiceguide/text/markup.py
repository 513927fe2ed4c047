"""Keep speech-engine markup out of spoken text unless a routine asks for it.

Speech engines read commands inside text: SSML and SAPI tags (``<speak>``,
``<prosody rate="x-fast">``), espeak's phoneme input and macOS's embedded
commands (``[[h@'loU]]``, ``[[rate 400]]``), and control characters (espeak's
embedded commands start with Ctrl-A). A shared routine or template could use
them to make the voice say something other than its text, or sound wrong.
By default such markup is taken out before the text is spoken; a routine that
sets ``allow_markup: true`` passes its text through as written.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"<[/!?]?[A-Za-z][^<>]*>")
_BRACKETED = re.compile(r"\[\[.*?\]\]", re.DOTALL)
_LEFTOVER = re.compile(r"[<>]|\[\[|\]\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def neutralise_markup(text: str) -> str:
    """``text`` with tags, ``[[...]]`` commands and control characters replaced by spaces.

    The words between an opening and a closing tag are kept: ``<emphasis>slowly</emphasis>``
    is spoken as ``slowly``.
    """
    text = _CONTROL.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _BRACKETED.sub(" ", text)
    return _LEFTOVER.sub(" ", text)
