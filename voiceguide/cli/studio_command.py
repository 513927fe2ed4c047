"""``voiceguide studio``: the web page, served on this computer (see voiceguide/studio/).

Its web parts are an optional extra, imported only when the command runs.
"""

from __future__ import annotations

import click

from voiceguide.cli.app import cli


@cli.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port to listen on. Default: a free one.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but 127.0.0.1 lets other computers reach the studio "
    "(they still need its token).",
)
@click.option("--no-browser", is_flag=True, help="Do not open the studio in a web browser.")
def studio(port: int, host: str, no_browser: bool) -> None:
    """Make sessions on a web page in your browser, on this computer only.

    It prints the page's address, with a token that only you have, and opens it
    in your browser. Press Ctrl-C to stop it.
    """
    from voiceguide.studio import INSTALL_HINT, available

    if not available():
        raise click.ClickException(INSTALL_HINT)
    from voiceguide.studio.server import serve

    serve(host, port, open_browser=not no_browser, say=lambda line: print(line, flush=True))
