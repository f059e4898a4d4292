"""``python -m ticket_auth``: the command line (see ``ticket_auth.cli``)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
