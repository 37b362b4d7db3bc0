"""Liferaft: a terminal workbench for recovering expired ChatGPT data-analysis sessions."""

__version__ = "0.1.0"
