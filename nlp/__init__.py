"""Kith nlp."""
