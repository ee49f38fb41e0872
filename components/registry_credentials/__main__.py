"""Entry point for `python -m registry_credentials`."""

import os
import sys

from .cli.main import main

code = main()
try:
    sys.stdout.flush()
    sys.stderr.flush()
except (BrokenPipeError, ValueError):
    pass
# Skip interpreter teardown: Pulumi's mock runtime leaves event loops in worker threads whose __del__ prints
# "Exception ignored ..." at exit. Everything is flushed; there is nothing else to clean up.
os._exit(code)
