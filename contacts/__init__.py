"""Contacts: creating, importing, exporting and merging customers, and the Contacts pages."""
