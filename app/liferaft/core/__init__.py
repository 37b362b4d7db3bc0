"""Liferaft's logic as a plain library: no Textual, usable from the CLI and from tests alone."""
