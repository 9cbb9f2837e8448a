"""AES-256-GCM for values that identify or locate a person (LEAK-3, LEAK-6).

A token is ``<key id>:<base64url(nonce || ciphertext || tag)>``. The key id tells which key of
``FIELD_ENCRYPTION_KEYS`` encrypted it, so keys can be rotated without a flag day: the first
key encrypts, every listed key decrypts, and ``manage.py rotate_encryption_key`` moves old
tokens to the current key. The associated data binds a token to its column ("context"), so a
ciphertext copied into another column does not decrypt there.

Fails closed: an unknown key id, a tampered token or a wrong context raises DecryptionError;
nothing ever falls back to returning the stored text.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be decrypted; the message never carries the value."""


def _keys() -> dict[str, bytes]:
    keys: dict[str, bytes] = settings.FIELD_ENCRYPTION_KEYS
    return keys


def current_key_id() -> str:
    return next(iter(_keys()))


def key_id_of(token: str) -> str:
    kid, sep, _ = token.partition(":")
    if not sep:
        raise DecryptionError("stored value is not an encrypted token")
    return kid


def encrypt_text(plaintext: str, *, context: str) -> str:
    return encrypt_bytes(plaintext.encode(), context=context)


def encrypt_bytes(plaintext: bytes, *, context: str) -> str:
    """A token for binary content (a rendered PDF): the same form as for text."""
    keys = _keys()
    kid = next(iter(keys))
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(keys[kid]).encrypt(nonce, plaintext, context.encode())
    return f"{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


@functools.lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESGCM:
    # Cached by key: the register import seals several values for each of millions of records.
    return AESGCM(key)


def decrypt_text(token: str, *, context: str) -> str:
    return decrypt_bytes(token, context=context).decode()


def decrypt_bytes(token: str, *, context: str) -> bytes:
    kid = key_id_of(token)
    key = _keys().get(kid)
    if key is None:
        raise DecryptionError(f"no key with id {kid!r} in FIELD_ENCRYPTION_KEYS")
    body = token[len(kid) + 1 :]
    try:
        blob = base64.urlsafe_b64decode(body)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("stored value is not valid base64") from exc
    # Only the exact encoding we write is accepted: base64 decoders skip stray characters and
    # surplus padding, and an altered token must be refused rather than quietly repaired.
    if base64.urlsafe_b64encode(blob).decode() != body:
        raise DecryptionError("stored value is not a well-formed token")
    if len(blob) < _NONCE_BYTES + 16:
        raise DecryptionError("stored value is too short to be a token")
    try:
        return AESGCM(key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], context.encode())
    except InvalidTag as exc:
        raise DecryptionError(
            f"stored value failed authentication (key {kid!r}, context {context!r})"
        ) from exc


def keyed_digest(data: bytes, *, purpose: str) -> str:
    """HMAC-SHA256 under a key derived from the current encryption key.

    Used to detect unchanged register records without keeping a plain hash of personal data
    (a plain hash of a name and address could be confirmed by guessing).
    """
    return hmac.digest(_derived_key(_keys()[current_key_id()], purpose), data, "sha256").hex()


# Length of an identity digest in hex: the prefix of a sealed identity number.
IDENTITY_DIGEST_LENGTH = 64


def identity_digest(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of an identity number under ``IDENTITY_DIGEST_KEY`` (LEAK-6).

    The database finds an encrypted number by this digest, so equal numbers give equal
    digests (unlike the encryption, which is randomised). The key is the application's and
    never the database's: a role reading the table cannot confirm a guessed number, as it
    could with a plain hash of the few million valid personnummer.
    """
    key = _derived_key(settings.IDENTITY_DIGEST_KEY, purpose)
    return hmac.digest(key, value.encode(), "sha256").hex()


@functools.lru_cache(maxsize=32)
def _derived_key(key: bytes, purpose: str) -> bytes:
    # Cached: the register import computes a digest for every one of millions of records.
    return hmac.new(key, purpose.encode(), hashlib.sha256).digest()
