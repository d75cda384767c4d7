"""The device key for the running agent: Ed25519 signing without the cryptography package.

The agent signs one challenge per connection. The cryptography package does that in a
few microseconds but holds ~7 MB RSS (its Rust extension carries its own OpenSSL) for the
agent's whole life, a fifth of its idle memory. The same OpenSSL function is already in
the process: Python's ``ssl`` module maps the system's libcrypto. :class:`DeviceKey`
calls ``EVP_DigestSign`` there through ctypes (constant-time, the library's own
Ed25519). Where that library cannot be found or lacks Ed25519 (OpenSSL before 1.1.1),
it falls back to the cryptography package. Enrolling (making the key) still uses the
cryptography package: it runs once, in its own process.
"""

from __future__ import annotations

import ctypes
import ssl  # noqa: F401 - maps the libcrypto this module uses
from typing import Any

# PKCS#8 of an Ed25519 private key (RFC 8410): this DER header, then the 32-byte seed.
PKCS8_HEADER = bytes.fromhex("302e020100300506032b657004220420")
PEM_BEGIN, PEM_END = b"-----BEGIN PRIVATE KEY-----", b"-----END PRIVATE KEY-----"
NID_ED25519 = 1087
SIGNATURE_BYTES = 64


def _libcrypto() -> Any:
    """Return the libcrypto the ``ssl`` module mapped (None: not found, or no Ed25519)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/libcrypto.so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
            lib.EVP_PKEY_new_raw_private_key  # noqa: B018 - OpenSSL 1.1.1 and later
        except (OSError, AttributeError):
            continue
        lib.EVP_PKEY_new_raw_private_key.restype = ctypes.c_void_p
        lib.EVP_PKEY_new_raw_private_key.argtypes = [ctypes.c_int, ctypes.c_void_p,
                                                     ctypes.c_char_p, ctypes.c_size_t]
        lib.EVP_PKEY_get_raw_public_key.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                                    ctypes.POINTER(ctypes.c_size_t)]
        lib.EVP_PKEY_free.argtypes = [ctypes.c_void_p]
        lib.EVP_MD_CTX_new.restype = ctypes.c_void_p
        lib.EVP_MD_CTX_free.argtypes = [ctypes.c_void_p]
        lib.EVP_DigestSignInit.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                           ctypes.c_void_p, ctypes.c_void_p]
        lib.EVP_DigestSign.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                       ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p,
                                       ctypes.c_size_t]
        return lib
    return None


def seed_from_pem(data: bytes) -> bytes | None:
    """Return the 32-byte seed of an unencrypted Ed25519 PKCS#8 PEM (None: another form)."""
    import base64
    import binascii

    text = data.strip()
    if not (text.startswith(PEM_BEGIN) and text.endswith(PEM_END)):
        return None
    try:
        der = base64.b64decode(b"".join(text[len(PEM_BEGIN):-len(PEM_END)].split()),
                               validate=True)
    except binascii.Error:
        return None
    if len(der) != len(PKCS8_HEADER) + 32 or not der.startswith(PKCS8_HEADER):
        return None
    return der[len(PKCS8_HEADER):]


class DeviceKey:
    """An Ed25519 private key that signs through the process's libcrypto."""

    def __init__(self, pkey: int, lib: Any) -> None:
        self._pkey = pkey
        self._lib = lib

    @classmethod
    def from_pem(cls, data: bytes) -> Any:
        """Load a key written by :func:`shared.agent_auth.private_pem`.

        Returns a :class:`DeviceKey`, or the cryptography package's key when libcrypto
        cannot sign here (both have ``sign(data) -> bytes``).

        Raises:
            ValueError: the data is not an Ed25519 private key.
        """
        seed = seed_from_pem(data)
        lib = _libcrypto() if seed is not None else None
        if lib is not None and seed is not None:
            pkey = lib.EVP_PKEY_new_raw_private_key(NID_ED25519, None, seed, len(seed))
            if pkey:
                return cls(pkey, lib)
        from shared.agent_auth import load_private_pem

        return load_private_pem(data)

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``data``."""
        lib = self._lib
        ctx = lib.EVP_MD_CTX_new()
        if not ctx:
            raise MemoryError("EVP_MD_CTX_new failed")
        try:
            out = ctypes.create_string_buffer(SIGNATURE_BYTES)
            size = ctypes.c_size_t(SIGNATURE_BYTES)
            if lib.EVP_DigestSignInit(ctx, None, None, None, self._pkey) != 1 or \
                    lib.EVP_DigestSign(ctx, out, ctypes.byref(size), data, len(data)) != 1:
                raise ValueError("libcrypto could not sign")
            return out.raw[:size.value]
        finally:
            lib.EVP_MD_CTX_free(ctx)

    def public_bytes(self) -> bytes:
        """Return the raw 32-byte public key."""
        out = ctypes.create_string_buffer(32)
        size = ctypes.c_size_t(32)
        if self._lib.EVP_PKEY_get_raw_public_key(self._pkey, out, ctypes.byref(size)) != 1:
            raise ValueError("libcrypto could not give the public key")
        return out.raw[:size.value]

    def __del__(self) -> None:
        lib, self._lib = getattr(self, "_lib", None), None
        if lib is not None and self._pkey:
            lib.EVP_PKEY_free(self._pkey)

