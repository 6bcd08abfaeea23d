"""Kith bots."""
