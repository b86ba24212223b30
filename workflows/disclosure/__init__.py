"""Disclosure requests (DOMAIN.md 8): the police and others asking for someone's data."""
