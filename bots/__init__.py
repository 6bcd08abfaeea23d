"""Bots: flows that answer customers first, a knowledge base, and a clean handoff to humans.

Bots know flows and the core's actions, nothing about HTTP or a channel's wire format.
`install(core)` registers the engine's hooks on a `Core`.
"""
