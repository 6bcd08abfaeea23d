"""Segments: saved filters over customers, kept current by events."""
