"""voiceguide: turn a stretching routine into a voice-guided, exactly timed audio session."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

# pydub warns as it is imported when ffmpeg is missing; voiceguide says so itself,
# in one line with the command that installs it, when it needs ffmpeg.
warnings.filterwarnings("ignore", "Couldn't find ffmpeg or avconv", RuntimeWarning)

if TYPE_CHECKING:
    from voiceguide.build.session import BuildResult, SessionOptions, build_session, prepare
    from voiceguide.errors import VoiceguideError

__all__ = ["BuildResult", "SessionOptions", "VoiceguideError", "build_session", "prepare"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Import the library on first use, so the command starts (and takes Ctrl-C) at once."""
    if name == "VoiceguideError":
        from voiceguide import errors

        return errors.VoiceguideError
    if name in __all__:
        from voiceguide.build import session

        return getattr(session, name)
    raise AttributeError(f"module 'voiceguide' has no attribute {name!r}")
