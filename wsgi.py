"""WSGI entry point: ``flask`` and production servers find ``app`` here."""

from app import create_app

app = create_app()
