"""Nurture sequences: steps that run for each enrolled customer, across every channel."""
