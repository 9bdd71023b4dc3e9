"""Pages of the assessments package."""

from flask import Blueprint

bp = Blueprint("assessments", __name__)
