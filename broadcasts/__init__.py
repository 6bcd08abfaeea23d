"""Broadcasts: one message to a segment on every channel, exactly once, with stats."""
