"""Command line: `registry-credentials render|explain|verify` (or `python -m registry_credentials`), the offline render."""
