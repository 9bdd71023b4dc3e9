"""Pages of the assessments package, one module per blueprint."""
