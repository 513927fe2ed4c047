"""Runs pyttsx3 in its own process, so a hang or crash cannot take voiceguide with it.

Reads one JSON request on stdin and writes JSON lines on stdout:
``{"info": ...}`` first, then ``{"done": i}`` for each clip written, then
``{"ok": true}``; or ``{"error": kind, "message": ...}``. pyttsx3's own chatter
("Audio saved to ...") goes to stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from typing import Any


def _send(out: Any, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def _espeak_library() -> str:
    """The resolved file of the loaded espeak library, which names its version."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                if "libespeak" in line:
                    return os.path.basename(os.path.realpath(line.split()[-1]))
    except OSError:
        pass
    return "unknown"


def _die_with_parent() -> None:
    """Have the kernel kill this worker if voiceguide dies (even by SIGKILL)."""
    if sys.platform != "linux" or len(sys.argv) < 2:
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != int(sys.argv[1]):  # it died before prctl took effect
        os._exit(1)


def _synchronize() -> None:
    """Wait until espeak has done everything asked of it so far (settings, speech)."""
    from pyttsx3.drivers import _espeak

    _espeak.Synchronize()


def main() -> None:
    _die_with_parent()
    out = sys.stdout
    request = json.load(sys.stdin)
    with contextlib.redirect_stdout(sys.stderr):
        try:
            from importlib.metadata import version

            import pyttsx3

            pyttsx3_version = version("pyttsx3")
        except Exception as e:  # pyttsx3 raises RuntimeError when espeak-ng is missing
            kind = "missing-espeak" if "eSpeak" in str(e) or "espeak" in str(e) else "engine"
            _send(out, {"error": kind, "message": str(e)})
            return
        try:
            engine = pyttsx3.init()
        except Exception as e:
            kind = "missing-espeak" if "espeak" in str(e).lower() else "engine"
            _send(out, {"error": kind, "message": str(e)})
            return
        # Settings go straight to the driver: through the engine they would be queued
        # and sent to espeak only with the first text.
        driver = engine.proxy._driver
        voices = [
            {"id": v.id, "name": v.name, "languages": list(v.languages or [])}
            for v in engine.getProperty("voices")
        ]
        voice = request.get("voice")
        if voice is not None:
            match = [v for v in voices if voice in (v["id"], v["name"])]
            if not match:
                _send(out, {"error": "voice", "message": voice})
                return
            driver.setProperty("voice", match[0]["id"])
        driver.setProperty("rate", int(request.get("rate", 150)))
        # espeak applies settings in its own thread, after those the driver made when
        # it started. Wait until they have all been applied: a setting still queued when
        # a text is queued is now and then applied too late, and the text is spoken at
        # the driver's default rate.
        _synchronize()
        _send(
            out,
            {
                "info": {
                    "pyttsx3": pyttsx3_version,
                    "library": _espeak_library(),
                    "voice": engine.getProperty("voice"),
                    "voices": voices,
                }
            },
        )
        # One runAndWait per file: queueing several save_to_file calls skips files.
        # pyttsx3's espeak driver returns from runAndWait as soon as espeak has
        # started (espeak speaks in a thread of its own) and writes the file when it
        # has finished: wait for that, or the next text would start while this one
        # is still being spoken, and the two would mix.
        for index, (text, path) in enumerate(request.get("jobs", [])):
            engine.save_to_file(text, path)
            engine.runAndWait()
            _synchronize()
            while getattr(driver, "_speaking", False):
                time.sleep(0.002)
            written = os.path.exists(path) and os.path.getsize(path) > 44
            _send(out, {"done": index, "written": written})
            if not written:
                break
    _send(out, {"ok": True})


if __name__ == "__main__":
    main()
