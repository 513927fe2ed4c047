"""Every error voiceguide raises on purpose derives from :class:`VoiceguideError`.

The message of each is written for the person running voiceguide: it says what
is wrong and, where it can, how to fix it. The CLI prints it as one line.
"""

from __future__ import annotations


class VoiceguideError(Exception):
    """Root of all voiceguide errors."""


class DurationError(VoiceguideError, ValueError):
    """A duration such as ``5m`` or ``2:30`` could not be understood."""


class RoutineError(VoiceguideError):
    """A routine is missing, unreadable or invalid."""


class TemplateError(VoiceguideError):
    """A cue template is missing, broken or uses an undefined variable."""


class PlanError(VoiceguideError):
    """The options asked for a session that cannot be planned."""


class SpeechError(VoiceguideError):
    """The speech engine failed, hung or produced an implausible clip."""


class MissingToolError(VoiceguideError):
    """A program voiceguide needs (ffmpeg, espeak-ng) is not installed."""


class AudioError(VoiceguideError):
    """An audio file (a chime, a cached clip) could not be read."""


class ExportError(VoiceguideError):
    """The session could not be encoded or written."""


class BatchError(VoiceguideError):
    """A batch of sessions is invalid (a bad batch file, two sessions with one output)."""
