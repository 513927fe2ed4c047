"""Run the studio: bind, print the address with its token, serve until Ctrl-C, tidy up."""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import uvicorn

from voiceguide.errors import VoiceguideError
from voiceguide.studio.app import Studio, create_app
from voiceguide.studio.guard import new_token

LOCAL = "127.0.0.1"


class StudioError(VoiceguideError):
    """The studio cannot start (its port is taken, say)."""


WILDCARDS = ("0.0.0.0", "::", "")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: a free port)."""
    if host in WILDCARDS:
        # The studio answers only requests that name the address it listens on.
        shown = host or "''"
        raise StudioError(
            f"--host {shown} would listen on every address; give one address of this "
            "computer, such as 127.0.0.1 or its address on your network"
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(64)
    except OSError as e:
        sock.close()
        raise StudioError(f"cannot listen on {host} port {port}: {e.strerror}") from None
    sock.set_inheritable(True)
    return sock


def hosts_for(host: str, port: int) -> list[str]:
    """The Host headers that name this studio: its address, and localhost for 127.0.0.1."""
    names = [f"[{host}]" if ":" in host else host]
    if host == LOCAL:
        names.append("localhost")
    return [f"{name}:{port}" for name in names]


class _Server(uvicorn.Server):
    """uvicorn's server, which tells the builds (and their progress streams) to stop
    as soon as it is asked to exit, so that it need not wait for them."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.on_exit()
        super().handle_exit(sig, frame)


def serve(
    host: str = LOCAL,
    port: int = 0,
    open_browser: bool = True,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the studio until interrupted; its folder of builds is removed at the end."""
    sock = bind(host, port)
    port = sock.getsockname()[1]
    token = new_token()
    workdir = Path(tempfile.mkdtemp(prefix="voiceguide-studio-"))
    studio = Studio(workdir)
    try:
        app = create_app(studio, token, hosts_for(host, port), f"voiceguide-studio-{port}")
        shown = f"[{host}]" if ":" in host else host
        address = f"http://{shown}:{port}/?token={token}"
        config = uvicorn.Config(
            app, log_level="warning", timeout_graceful_shutdown=2, lifespan="off"
        )
        server = _Server(config, studio.builds.begin_stop)
        say(f"The studio is at {address}")
        say("Keep this window open while you use it; press Ctrl-C here to stop it.")
        if open_browser:
            threading.Timer(0.5, webbrowser.open, (address,)).start()
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    finally:
        with contextlib.suppress(KeyboardInterrupt):
            studio.close()
            sock.close()
            shutil.rmtree(workdir, ignore_errors=True)
    say("The studio has stopped.")
