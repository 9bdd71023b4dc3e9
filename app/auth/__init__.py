"""Accounts, roles, login and the one permission mechanism every route uses."""
