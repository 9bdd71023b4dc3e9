"""Click command groups of the assessments package, added to the app by assessments.cli."""
