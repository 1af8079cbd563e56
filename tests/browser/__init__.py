"""Helpers that drive real tools for the careers site tests (Chromium, the Nu HTML checker)."""
