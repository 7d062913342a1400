"""Guidance Lab as an installed package: the ``guidance-lab`` command (``guidance_lab.cli``) and the
version, kept here and nowhere else (``pyproject.toml`` reads it)."""

__version__ = "0.1.0"
