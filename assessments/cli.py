"""Command-line groups of the assessments package."""

from flask import Flask


def register(app: Flask) -> None:
    pass
