"""Trusting a push: signatures, safe XML, and the AES envelope of compatible and safe modes.

WeChat signs every push with SHA1 over the sorted (token, timestamp, nonce[, Encrypt]);
wechatpy computes the digests and decrypts, and we compare in constant time. Every XML
body, outer and decrypted, goes through defusedxml first: WeChat never sends a DTD, so
any DOCTYPE or ENTITY (XXE, billion laughs) is refused before a real parser sees it.
"""

from __future__ import annotations

import hmac
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pydantic import BaseModel, ConfigDict, Field
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import WeChatSigner

from kith.connectors.wechat.config import WeChatConfig
from kith.core.errors import InvalidInput, PayloadTooLarge, Unauthorized

MAX_BODY_BYTES = 128 * 1024  # WeChat's pushes are a few KiB; refuse anything far larger


class CallbackQuery(BaseModel):
    """The query string WeChat adds to every GET check and POST push."""

    model_config = ConfigDict(extra="ignore")

    signature: str = Field(default="", max_length=64)
    timestamp: str = Field(default="", max_length=32)
    nonce: str = Field(default="", max_length=64)
    echostr: str = Field(default="", max_length=1024)
    openid: str | None = Field(default=None, max_length=128)
    encrypt_type: str | None = Field(default=None, max_length=16)
    msg_signature: str | None = Field(default=None, max_length=64)


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: SHA1 of the sorted parts, concatenated (wechatpy's signer)."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def _matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def verify_signature(config: WeChatConfig, query: CallbackQuery) -> None:
    """The `signature` every request carries: proof it comes from whoever holds the token."""
    if not _matches(sha1_signature(config.token, query.timestamp, query.nonce), query.signature):
        raise Unauthorized("bad WeChat signature", field="signature")


def verify_msg_signature(config: WeChatConfig, query: CallbackQuery, encrypted: str) -> None:
    expected = sha1_signature(config.token, query.timestamp, query.nonce, encrypted)
    if not _matches(expected, query.msg_signature):
        raise Unauthorized("bad WeChat msg_signature", field="msg_signature")


def safe_xml(body: bytes | str) -> Element:
    """Parse with DTDs and entities forbidden; the root must be WeChat's `<xml>`."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"WeChat push over {MAX_BODY_BYTES} bytes", field="body")
    try:
        root: Element = fromstring(
            body, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise InvalidInput(
            "XML with DTD or entity declarations is refused", field="body", code="unsafe_xml"
        ) from None
    except ParseError:
        raise InvalidInput("malformed XML", field="body", code="malformed_xml") from None
    if root.tag != "xml":
        raise InvalidInput("not a WeChat push: the root element must be <xml>", field="body")
    return root


def _crypto(config: WeChatConfig) -> WeChatCrypto:
    if config.encoding_aes_key is None:
        raise InvalidInput(
            "encrypted push, but the channel has no encoding_aes_key (plaintext mode only)",
            field="encoding_aes_key",
            code="not_configured",
        )
    return WeChatCrypto(config.token, config.encoding_aes_key, config.app_id)


def decrypt(config: WeChatConfig, query: CallbackQuery, encrypted: str) -> str:
    """Verify `msg_signature` over the ciphertext, then decrypt it for this AppID."""
    crypto = _crypto(config)
    verify_msg_signature(config, query, encrypted)
    try:
        plain = crypto.decrypt_message(
            {"Encrypt": encrypted}, query.msg_signature, query.timestamp, query.nonce
        )
    except (InvalidSignatureException, InvalidAppIdException):
        raise Unauthorized("push was not encrypted for this AppID", field="Encrypt") from None
    except Exception:  # bad base64, padding or length: wrong key or a corrupted push
        raise InvalidInput(
            "cannot decrypt the push: check the channel's encoding_aes_key", field="Encrypt"
        ) from None
    return str(plain)


def open_push(config: WeChatConfig, query: CallbackQuery, body: bytes) -> str:
    """The push's plaintext XML, whatever the account's encryption mode.

    Plaintext mode: the body itself. Compatible and safe modes (`encrypt_type=aes`): the
    decrypted `Encrypt` element; compatible mode's plaintext copy is ignored, as only the
    ciphertext is covered by `msg_signature`.
    """
    verify_signature(config, query)
    root = safe_xml(body)
    if (query.encrypt_type or "raw").lower() != "aes":
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("WeChat pushes are UTF-8", field="body") from None
    encrypted = root.findtext("Encrypt")
    if not encrypted:
        raise InvalidInput("encrypt_type=aes but no <Encrypt> element", field="Encrypt")
    plain = decrypt(config, query, encrypted)
    safe_xml(plain.encode())
    return plain


def url_check_echo(config: WeChatConfig, query: CallbackQuery) -> str:
    """What to answer WeChat's server-URL check (GET): the echostr, once the signature holds.

    Official Accounts sign (token, timestamp, nonce) and send echostr in clear; when a
    `msg_signature` comes instead (the encrypted check), echostr is ciphertext to decrypt.
    """
    if query.msg_signature:
        return decrypt(config, query, query.echostr)
    verify_signature(config, query)
    return query.echostr
