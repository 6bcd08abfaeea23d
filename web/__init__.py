"""Kith web."""
