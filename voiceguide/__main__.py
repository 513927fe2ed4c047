"""The voiceguide command, also run as ``python -m voiceguide``."""

from __future__ import annotations

import sys

from voiceguide import interrupts
from voiceguide.checkpoint import checkpoint


def main() -> None:
    interrupts.install()  # first: Ctrl-C during the imports below is handled too
    try:
        checkpoint("start")
        from voiceguide.cli import main as cli_main
    except KeyboardInterrupt:
        print(interrupts.MESSAGE, file=sys.stderr)
        sys.exit(interrupts.EXIT_CODE)
    cli_main()


if __name__ == "__main__":
    main()
