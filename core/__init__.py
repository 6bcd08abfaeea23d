"""Kith core: the data model, storage and the message pipeline."""
