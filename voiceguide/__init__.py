"""voiceguide: turn a stretching routine into a voice-guided, exactly timed audio session."""

import warnings

# pydub warns as it is imported when ffmpeg is missing; voiceguide says so itself,
# in one line with the command that installs it, when it needs ffmpeg.
warnings.filterwarnings("ignore", "Couldn't find ffmpeg or avconv", RuntimeWarning)

from voiceguide.errors import VoiceguideError  # noqa: E402
from voiceguide.session import BuildResult, SessionOptions, build_session, prepare  # noqa: E402

__all__ = ["BuildResult", "SessionOptions", "VoiceguideError", "build_session", "prepare"]
__version__ = "0.1.0"
