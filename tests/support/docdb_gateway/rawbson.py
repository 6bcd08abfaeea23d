"""Just enough raw-BSON surgery to forward commands without re-encoding user data.

Decoding a client's command into Python objects and encoding it again would change types the
client chose (an ``Int64`` that fits in 32 bits comes back as an int32, for one), so the gateway
copies the top-level elements of a command as bytes and decodes only the few fields it reads.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import bson
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.raw_bson import RawBSONDocument

_INT32 = struct.Struct("<i")

# Decoding that never loses a value a client could have sent (dates out of range, odd UUIDs).
CODEC = CodecOptions(datetime_conversion=DatetimeConversion.DATETIME_MS)
RAW_CODEC = CodecOptions(
    document_class=RawBSONDocument, datetime_conversion=DatetimeConversion.DATETIME_MS
)

# Fixed value sizes by BSON type byte; the variable-sized types are handled in _value_end.
_FIXED = {
    0x01: 8,  # double
    0x06: 0,  # undefined
    0x07: 12,  # ObjectId
    0x08: 1,  # bool
    0x09: 8,  # datetime
    0x0A: 0,  # null
    0x10: 4,  # int32
    0x11: 8,  # timestamp
    0x12: 8,  # int64
    0x13: 16,  # decimal128
    0xFF: 0,  # MinKey
    0x7F: 0,  # MaxKey
}


def _value_end(data: bytes, etype: int, pos: int) -> int:
    size = _FIXED.get(etype)
    if size is not None:
        return pos + size
    if etype in (0x02, 0x0D, 0x0E):  # string, code, symbol
        return pos + 4 + _INT32.unpack_from(data, pos)[0]
    if etype in (0x03, 0x04, 0x0F):  # document, array, code with scope
        return pos + _INT32.unpack_from(data, pos)[0]
    if etype == 0x05:  # binary
        return pos + 5 + _INT32.unpack_from(data, pos)[0]
    if etype == 0x0B:  # regex: two cstrings
        end = data.index(b"\x00", pos)
        return data.index(b"\x00", end + 1) + 1
    if etype == 0x0C:  # DBPointer
        return pos + 4 + _INT32.unpack_from(data, pos)[0] + 12
    raise ValueError(f"unknown BSON type 0x{etype:02x}")


def iter_elements(doc: bytes) -> Iterator[tuple[str, bytes]]:
    """Yield (name, whole raw element) for each top-level element of a BSON document."""
    end = _INT32.unpack_from(doc, 0)[0] - 1
    pos = 4
    while pos < end:
        start = pos
        etype = doc[pos]
        name_end = doc.index(b"\x00", pos + 1)
        name = doc[pos + 1 : name_end].decode()
        pos = _value_end(doc, etype, name_end + 1)
        yield name, doc[start:pos]


def make_doc(elements: list[bytes]) -> bytes:
    """Assemble raw elements into a BSON document."""
    body = b"".join(elements)
    return _INT32.pack(len(body) + 5) + body + b"\x00"


def element(name: str, value: Any) -> bytes:
    """Encode one Python value as a raw element named ``name``."""
    return bson.encode({name: value})[4:-1]


def array_of_docs(name: str, docs: list[bytes]) -> bytes:
    """Raw array element whose items are the given raw documents (a kind-1 section's payload)."""
    parts = [b"\x03" + str(i).encode() + b"\x00" + d for i, d in enumerate(docs)]
    body = b"".join(parts)
    return b"\x04" + name.encode() + b"\x00" + _INT32.pack(len(body) + 5) + body + b"\x00"


def decode_element(raw: bytes) -> Any:
    """Decode the value of a single raw element."""
    return next(iter(bson.decode(make_doc([raw]), CODEC).values()))


def split_docs(payload: bytes) -> list[bytes]:
    """Split concatenated BSON documents (an OP_MSG document sequence) into a list."""
    docs = []
    pos = 0
    while pos < len(payload):
        size = _INT32.unpack_from(payload, pos)[0]
        docs.append(payload[pos : pos + size])
        pos += size
    return docs
