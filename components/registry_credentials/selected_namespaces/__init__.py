"""Namespaces selected by label, now and later: an admission policy for the reference, an engine for the copy."""
