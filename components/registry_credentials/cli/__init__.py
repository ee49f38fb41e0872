"""Command line: `python -m registry_credentials render|explain|verify`, and the offline render behind it."""
