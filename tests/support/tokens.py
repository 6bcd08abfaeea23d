"""Damaging a signed token's base64url part so that it surely means something else."""

from __future__ import annotations


def damaged(part: str) -> str:
    """`part` with its first character changed: six bits that every decoder reads. Changing
    its last characters instead may change nothing: their low bits are padding that base64
    decoders drop, so such a "damaged" token still verified about once in 256 runs."""
    return ("B" if part[0] == "A" else "A") + part[1:]
