"""Nova's key pairs (nova/compute/api.py KeypairAPI, nova/crypto.py): per user, imported
from an OpenSSH public key or generated (RSA 2048, the private key returned once). The
fingerprint is the MD5 of the key blob, colon separated, as nova.crypto computes it. The
emulated guests have no sshd, so a key pair only shows as the server's `key_name`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ovnlab.cloud import compute_quotas
from ovnlab.cloud.base import CloudBase, Doc
from ovnlab.cloud.context import Context
from ovnlab.errors import BadRequest, Conflict, Forbidden, NotFound

KIND = "keypair"


class KeyType(StrEnum):
    SSH = "ssh"
    X509 = "x509"


def _invalid(reason: str) -> BadRequest:
    return BadRequest(f"Keypair data is invalid: {reason}", type="InvalidKeypair")


def fingerprint(public_key: str) -> str:
    """nova.crypto.generate_fingerprint: MD5 over the base64-decoded key blob."""
    parts = public_key.strip().split()
    if len(parts) < 2:
        raise _invalid("failed to generate fingerprint")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    except (binascii.Error, ValueError, TypeError):
        raise _invalid("failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate() -> tuple[str, str]:
    """(private key PEM, OpenSSH public key) of a new RSA 2048 key, as nova.crypto does."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} Generated-by-Nova"


_NAME = re.compile(r"^[a-zA-Z0-9 _-]+$")
_NAME_292 = re.compile(r"^[a-zA-Z0-9 _.@-]+$")  # 2.92 allows '@' and '.'


def name_is_valid(name: Any, *, wide: bool) -> bool:
    return isinstance(name, str) and 1 <= len(name) <= 255 and bool(
        (_NAME_292 if wide else _NAME).match(name))


class KeypairService:
    """Nova's key pairs (`cloud.keypairs`), a service of its own over the cloud's core (its
    store, transaction and clock): nothing else of the cloud is involved."""

    def __init__(self, core: CloudBase) -> None:
        self._core = core

    def _owner(self, ctx: Context, user_id: str | None) -> str:
        return user_id or ctx.user_id

    def create_keypair(self, ctx: Context, name: str, *, public_key: str | None,
                       key_type: KeyType = KeyType.SSH, user_id: str | None = None) -> Doc:
        """Import `public_key`, or generate one (the answer then holds `private_key`)."""
        owner = self._owner(ctx, user_id)
        private = None
        if public_key is None:
            private, public_key = generate()
        print_ = fingerprint(public_key) if key_type is KeyType.SSH else _x509_fingerprint(
            public_key)
        with self._core._txn():
            if self._core.store.get(KIND, f"{owner}/{name}") is not None:
                raise Conflict(f"Key pair '{name}' already exists.", type="KeyPairExists")
            allowed = compute_quotas.limit(self._core.store, ctx.project_id, "key_pairs")
            if 0 <= allowed <= len(self._core.store.find(KIND, user_id=owner)):
                raise Forbidden("Quota exceeded, too many key pairs.",
                                type="KeypairLimitExceeded")
            counter = self._core.store.get("meta", "keypairs") or {"ids": 0}
            counter["ids"] += 1
            self._core.store.put("meta", "keypairs", counter)
            doc: Doc = {"id": counter["ids"], "name": name, "user_id": owner,
                        "public_key": public_key, "fingerprint": print_,
                        "type": key_type.value, "created_at": self._core._now()}
            self._core.store.put(KIND, f"{owner}/{name}", doc)
        return {**doc, **({"private_key": private} if private else {})}

    def get_keypairs(self, ctx: Context, user_id: str | None = None) -> list[Doc]:
        return self._core.store.find(KIND, user_id=self._owner(ctx, user_id))

    def get_keypair(self, ctx: Context, name: str, user_id: str | None = None) -> Doc:
        owner = self._owner(ctx, user_id)
        doc = self._core.store.get(KIND, f"{owner}/{name}")
        if doc is None:
            raise NotFound(f"Keypair {name} not found for user {owner}",
                           type="KeypairNotFound")
        return doc

    def delete_keypair(self, ctx: Context, name: str, user_id: str | None = None) -> None:
        with self._core._txn():
            doc = self.get_keypair(ctx, name, user_id)
            self._core.store.delete(KIND, f"{doc['user_id']}/{name}")


def _x509_fingerprint(certificate: str) -> str:
    """nova.crypto.generate_x509_fingerprint: SHA-1 of the DER certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError:
        raise _invalid("failed to generate X509 fingerprint. Error message: the "
                       "certificate cannot be loaded") from None
    digest = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 (Nova's choice)
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
