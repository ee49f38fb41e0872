"""Entry point for `python -m registry_credentials`."""

import sys

from .cli import main

sys.exit(main())
