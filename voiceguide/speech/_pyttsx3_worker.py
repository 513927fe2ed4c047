"""Runs pyttsx3 out of voiceguide's process: a zygote that forks a fresh speaker per request.

The zygote imports pyttsx3 and loads the espeak-ng library once, but never
initialises espeak: espeak keeps state from one utterance to the next (and starts
a thread of its own when initialised), so each request is served by a child
forked from the zygote, which initialises espeak, speaks and exits. Every text is
thus spoken by an espeak exactly as fresh as in a new process, without paying
for a new Python and its imports each time.

Protocol, one JSON object a line. The zygote writes ``{"ready": true}`` (or
``{"error": kind, "message": ...}``) when it has loaded the engine, then reads
requests ``{"voice": ..., "rate": ..., "jobs": [[text, path], ...], "info": bool,
"voices": bool}`` from stdin, one at a time. For each, the child writes
``{"info": ...}`` (when asked: pyttsx3's version, the espeak library, the voice,
and with ``"voices"`` every voice espeak has) or ``{"started": true}``, then
``{"done": i, "written": bool}`` for each file, then ``{"ok": true}``, or
``{"error": kind, "message": ...}``; and the zygote, when the child has ended,
``{"exit": code}``. pyttsx3's own chatter ("Audio saved to ...") goes to stderr.

SIGTERM makes the zygote kill its child and wait for it before it exits, so
that when the zygote is gone, so is its child. Either dies with its parent,
even when that is killed by SIGKILL (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from types import FrameType
from typing import Any

_child = 0  # the zygote's running child, if any
POLL = 0.001  # seconds between looks at whether espeak has finished
_loaded: dict[str, str] = {}  # what the zygote loaded: pyttsx3's version, the espeak library


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


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` dies (even by SIGKILL)."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def _synchronize() -> None:
    """Wait until espeak has done everything asked of it so far (settings, speech).

    As ``espeak_Synchronize`` does (while ``espeak_IsPlaying()``, sleep), but looking
    every millisecond where espeak-ng sleeps 20 ms between looks: a line waited here
    twice, for settings that take well under a millisecond."""
    from pyttsx3.drivers import _espeak

    while _espeak.IsPlaying():
        time.sleep(POLL)


def _missing(message: str) -> str:
    return "missing-espeak" if "espeak" in message.lower() else "engine"


def _speak(request: dict[str, Any], out: Any) -> None:
    """In a fresh child: initialise espeak, apply the settings, speak every job."""
    import pyttsx3

    try:
        engine = pyttsx3.init()
    except Exception as e:
        _send(out, {"error": _missing(str(e)), "message": str(e)})
        return
    # Settings go straight to the driver: through the engine they would be queued
    # and sent to espeak only with the first text.
    driver = engine.proxy._driver
    voice = request.get("voice")
    voices: list[dict[str, Any]] = []
    if voice is not None or request.get("voices"):  # espeak reads every voice file for it
        voices = [
            {"id": v.id, "name": v.name, "languages": list(v.languages or [])}
            for v in engine.getProperty("voices")
        ]
    if voice is not None:
        match = [v for v in voices if voice in (v["id"], v["name"])] or [
            v for v in voices if voice.casefold() in (v["id"].casefold(), v["name"].casefold())
        ]  # an id as people write it, such as gmw/en-GB-x-rp for gmw/en-gb-x-rp
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
    if request.get("info"):
        info: dict[str, Any] = {**_loaded, "voice": engine.getProperty("voice")}
        if request.get("voices"):
            info["voices"] = voices
        _send(out, {"info": info})
    else:
        _send(out, {"started": True})
    # One text at a time: queueing several save_to_file calls skips files. espeak
    # speaks in a thread of its own, and pyttsx3's driver writes the file when it
    # has finished: wait for that, or the next text would start while this one is
    # still being spoken, and the two would mix.
    for index, (text, path) in enumerate(request.get("jobs", [])):
        _save(engine, driver, text, path)
        while getattr(driver, "_speaking", False):  # until the driver has written the file
            time.sleep(POLL)
        # ...and until espeak's thread has left the callback that wrote it: the driver
        # adds that callback's samples to its buffer after writing, and the next text
        # must not start before, or they would go into its file.
        _synchronize()
        written = os.path.exists(path) and os.path.getsize(path) > 44
        _send(out, {"done": index, "written": written})
        if not written:
            break
    _send(out, {"ok": True})


def _save(engine: Any, driver: Any, text: str, path: str) -> None:
    """Have espeak speak ``text`` into the WAV file ``path``.

    pyttsx3's own way (``save_to_file``, then ``runAndWait``) runs the driver's loop,
    which sleeps 10 ms once espeak has started, for every text. The driver's own
    steps are taken here instead, where this pyttsx3 has them (2.99 and later): they
    start espeak and return. The caller waits until the file is written either way."""
    start = getattr(driver, "_start_synthesis", None)
    if start is None or not hasattr(driver, "save_to_file"):
        engine.save_to_file(text, path)
        engine.runAndWait()
        return
    driver.save_to_file(text, path)
    start(text)


def _serve(request: dict[str, Any], out: Any) -> int:
    """Fork a child to serve ``request``; its exit code once it has ended."""
    global _child
    sys.stderr.flush()
    zygote = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _die_with_parent(zygote)
            _speak(request, out)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)  # never back into the zygote's loop; skip espeak's teardown
    _child = pid
    _, status = os.waitpid(pid, 0)
    _child = 0
    return os.waitstatus_to_exitcode(status)


def _terminate(signum: int, frame: FrameType | None) -> None:
    if _child:
        try:
            os.kill(_child, signal.SIGKILL)
            os.waitpid(_child, 0)
        except OSError:
            pass
    os._exit(0)


def main() -> None:
    _die_with_parent(int(sys.argv[1]) if len(sys.argv) > 1 else os.getppid())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is voiceguide's to handle
    signal.signal(signal.SIGTERM, _terminate)
    out = sys.stdout
    sys.stdout = sys.stderr  # pyttsx3 prints; only messages go to voiceguide
    try:
        # Loading the library is all the zygote does of espeak: initialising it
        # starts a thread, which a forked child would not have.
        import pyttsx3  # noqa: F401
        from pyttsx3.drivers import _espeak, espeak  # noqa: F401
    except Exception as e:  # pyttsx3 raises when libespeak-ng cannot be loaded
        _send(out, {"error": _missing(str(e)), "message": str(e)})
        return
    from importlib.metadata import version

    # Once, here, for every child that reports them (a child forked later has them).
    _loaded.update(pyttsx3=version("pyttsx3"), library=_espeak_library())
    _send(out, {"ready": True})
    for line in sys.stdin:
        _send(out, {"exit": _serve(json.loads(line), out)})


if __name__ == "__main__":
    main()
