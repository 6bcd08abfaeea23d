"""Outbound webhooks: signed deliveries of Kith's events to the URLs admins subscribe."""
