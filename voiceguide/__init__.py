"""voiceguide: turn a stretching routine into a voice-guided, exactly timed audio session."""

from voiceguide.errors import VoiceguideError
from voiceguide.session import BuildResult, SessionOptions, build_session, prepare

__all__ = ["BuildResult", "SessionOptions", "VoiceguideError", "build_session", "prepare"]
__version__ = "0.1.0"
