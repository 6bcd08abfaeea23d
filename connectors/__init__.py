"""Kith connectors."""
