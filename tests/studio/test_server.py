"""The real command: it starts, prints its address, answers only with its token, and
stops cleanly on Ctrl-C, leaving no files behind."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from voiceguide.studio.server import StudioError, bind, hosts_for
from voiceguide.studio.work import builtin_routine


def start_studio(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """The studio running in its own process, and the address it printed."""
    temp = tmp_path / "temp"
    temp.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "studio", "--no-browser", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(temp)},
    )
    assert process.stdout is not None
    assert process.stderr is not None
    first = process.stdout.readline()
    assert first.startswith("The studio is at http://127.0.0.1:"), first + process.stderr.read()
    return process, first.split()[-1]


def get(address: str, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    parts = urlsplit(address)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    return connection.getresponse()


def test_the_studio_starts_answers_with_its_token_and_stops_cleanly(tmp_path: Path) -> None:
    process, address = start_studio(tmp_path)
    try:
        parts = urlsplit(address)
        token_path = f"/?{parts.query}"
        assert parts.query.startswith("token=")
        assert len(parts.query) > 30
        assert get(address, "/").status == 403
        assert get(address, token_path, {"Host": "evil.example"}).status == 403
        answer = get(address, token_path)
        assert answer.status == 303
        cookie = answer.getheader("set-cookie", "").split(";")[0]
        assert get(address, "/", {"Cookie": cookie}).status == 200
        assert (
            get(address, "/", {"Cookie": cookie, "Host": f"localhost:{parts.port}"}).status == 200
        )
        assert len(list((tmp_path / "temp").iterdir())) == 1  # the studio's own folder
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "The studio has stopped." in out
    assert list((tmp_path / "temp").iterdir()) == [], "no temporary files left"


def test_a_port_in_use_is_one_line_of_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "voiceguide", "studio", "--no-browser", "--port", str(port)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"Error: cannot listen on 127.0.0.1 port {port}: Address already in use"
    )


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", ["127.0.0.1:8000", "localhost:8000"]), ("::1", ["[::1]:8000"])],
)
def test_the_hosts_a_studio_answers_to(host: str, expected: list[str]) -> None:
    assert hosts_for(host, 8000) == expected


def test_ctrl_c_during_a_build_stops_it_and_leaves_no_files(tmp_path: Path) -> None:
    process, address = start_studio(tmp_path)
    try:
        parts = urlsplit(address)
        cookie = get(address, f"/?{parts.query}").getheader("set-cookie", "").split(";")[0]
        routine = builtin_routine("hamstring")
        connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
        body = json.dumps({"routine": routine, "hold": "20m"})
        connection.request("POST", "/api/build", body, {"Cookie": cookie})
        build_id = json.loads(connection.getresponse().read())["id"]
        events = get(address, f"/api/builds/{build_id}/events", {"Cookie": cookie})
        for line in events:  # wait until it is under way
            if line.startswith(b"data: ") and json.loads(line[6:])["state"] == "running":
                break
        builds = next((tmp_path / "temp").iterdir()) / "builds"
        assert builds.is_dir()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "The studio has stopped." in out
    assert list((tmp_path / "temp").iterdir()) == [], "no temporary files left"


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_listening_on_every_address_is_refused(host: str) -> None:
    with pytest.raises(StudioError, match="would listen on every address"):
        bind(host, 0)
