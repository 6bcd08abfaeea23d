"""MongoDB wire-protocol framing: OP_MSG both ways, legacy OP_QUERY in and OP_REPLY out.

Only the legacy opcodes that drivers still send for the first handshake are understood; every
other message is OP_MSG (MongoDB 3.6+).
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field

from . import rawbson

OP_REPLY = 1
OP_QUERY = 2004
OP_COMPRESSED = 2012
OP_MSG = 2013

CHECKSUM_PRESENT = 1
MORE_TO_COME = 1 << 1
EXHAUST_ALLOWED = 1 << 16

_HEADER = struct.Struct("<iiii")
_UINT32 = struct.Struct("<I")
_INT32 = struct.Struct("<i")
MAX_MESSAGE = 48 * 1024 * 1024


@dataclass
class Request:
    """One decoded client message: the command body plus any document sequences."""

    request_id: int
    opcode: int
    body: bytes
    sequences: dict[str, list[bytes]] = field(default_factory=dict)
    more_to_come: bool = False
    legacy_collection: str = ""  # OP_QUERY's fullCollectionName


class ProtocolError(Exception):
    """The peer sent something that is not a message this gateway understands."""


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one message; None on a clean end of stream."""
    try:
        header = await reader.readexactly(16)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise ProtocolError("truncated header") from exc
        return None
    length, request_id, _response_to, opcode = _HEADER.unpack(header)
    if not 16 < length <= MAX_MESSAGE:
        raise ProtocolError(f"bad message length {length}")
    data = await reader.readexactly(length - 16)
    if opcode == OP_MSG:
        return _parse_msg(request_id, data)
    if opcode == OP_QUERY:
        return _parse_query(request_id, data)
    raise ProtocolError(f"unsupported opcode {opcode}")


def _parse_msg(request_id: int, data: bytes) -> Request:
    flags = _UINT32.unpack_from(data, 0)[0]
    end = len(data) - (4 if flags & CHECKSUM_PRESENT else 0)
    pos = 4
    req = Request(request_id, OP_MSG, b"", more_to_come=bool(flags & MORE_TO_COME))
    while pos < end:
        kind = data[pos]
        pos += 1
        size = _INT32.unpack_from(data, pos)[0]
        if kind == 0:
            req.body = data[pos : pos + size]
        elif kind == 1:
            name_end = data.index(b"\x00", pos + 4)
            name = data[pos + 4 : name_end].decode()
            req.sequences.setdefault(name, []).extend(
                rawbson.split_docs(data[name_end + 1 : pos + size])
            )
        else:
            raise ProtocolError(f"unknown OP_MSG section kind {kind}")
        pos += size
    if not req.body:
        raise ProtocolError("OP_MSG without a body section")
    return req


def _parse_query(request_id: int, data: bytes) -> Request:
    name_end = data.index(b"\x00", 4)
    collection = data[4:name_end].decode()
    pos = name_end + 1 + 8  # skip numberToSkip, numberToReturn
    size = _INT32.unpack_from(data, pos)[0]
    body = data[pos : pos + size]
    return Request(request_id, OP_QUERY, body, legacy_collection=collection)


def encode_msg(response_to: int, request_id: int, body: bytes) -> bytes:
    """An OP_MSG reply with a single body section."""
    payload = _UINT32.pack(0) + b"\x00" + body
    return _HEADER.pack(16 + len(payload), request_id, response_to, OP_MSG) + payload


def encode_reply(response_to: int, request_id: int, body: bytes) -> bytes:
    """A legacy OP_REPLY carrying one document (the answer to an OP_QUERY handshake)."""
    payload = struct.pack("<iqii", 0, 0, 0, 1) + body
    return _HEADER.pack(16 + len(payload), request_id, response_to, OP_REPLY) + payload
