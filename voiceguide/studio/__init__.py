"""The studio: a local web page for making sessions without a terminal.

``voiceguide studio`` serves it on 127.0.0.1 (see :mod:`voiceguide.studio.server`).
This module imports nothing: the command line imports it at start.
"""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "the studio needs its extra: pip install 'voiceguide[studio]'"


def available() -> bool:
    """Whether the studio's web parts (Starlette and uvicorn) are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("starlette", "uvicorn"))
