"""Nova's `os-keypairs` (nova/api/openstack/compute/keypairs.py and its schemas): create
(import or generate), list, show, delete, per user; shaped by the microversion (2.2 `type`
and 201/204, 2.10 an admin's `user_id`, 2.92 no generation and a wider name)."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud.keypairs import KeyType, name_is_valid
from ovnlab.cloud.services import Keypairs as Cloud
from ovnlab.errors import BadRequest, Forbidden

from .http import Request, Response, Router
from .microversions import Version, microversion, version_headers
from .microversions import nova_writer as _writer

TYPED: Version = (2, 2)
USER_ID: Version = (2, 10)
NO_GENERATION: Version = (2, 92)


def _bad(message: str) -> BadRequest:
    return BadRequest(message, type="ValidationError")


def validate_create(body: Any, version: Version) -> dict[str, Any]:
    kp = body.get("keypair") if isinstance(body, dict) and len(body) == 1 else None
    if not isinstance(kp, dict):
        raise _bad(f"Invalid input for field/attribute keypair. Value: {body}. 'keypair' is a "
                   "required property")
    allowed = {"name", "public_key"} | ({"type"} if version >= TYPED else set()) | (
        {"user_id"} if version >= USER_ID else set())
    extra = sorted(k for k in kp if k not in allowed)
    if extra:
        raise _bad(f"Additional properties are not allowed ({', '.join(map(repr, extra))} "
                   f"{'was' if len(extra) == 1 else 'were'} unexpected)")
    required = ("name", "public_key") if version >= NO_GENERATION else ("name",)
    for key in required:
        if key not in kp:
            raise _bad(f"Invalid input for field/attribute keypair. Value: {kp}. '{key}' is "
                       "a required property")
    if not name_is_valid(kp["name"], wide=version >= NO_GENERATION):
        raise _bad(f"Invalid input for field/attribute name. Value: {kp['name']}. "
                   f"{kp['name']!r} does not match the keypair name pattern")
    if "public_key" in kp and not isinstance(kp["public_key"], str):
        raise _bad(f"Invalid input for field/attribute public_key. Value: {kp['public_key']}. "
                   f"{kp['public_key']!r} is not of type 'string'")
    if "type" in kp and kp["type"] not in tuple(KeyType):
        raise _bad(f"Invalid input for field/attribute type. Value: {kp['type']}. "
                   f"{kp['type']!r} is not one of ['ssh', 'x509']")
    return kp


class Keypairs:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def register(self, router: Router, v21: str) -> None:
        router.add("GET", v21 + "/os-keypairs", self.list)
        router.add("POST", v21 + "/os-keypairs", self.create)
        router.add("GET", v21 + "/os-keypairs/{name}", self.show)
        router.add("DELETE", v21 + "/os-keypairs/{name}", self.delete)

    def _user(self, req: Request, version: Version, user_id: Any = None) -> str | None:
        """Another user's key pairs are an admin's business only (2.10)."""
        wanted = user_id if user_id is not None else (
            req.q1("user_id") if version >= USER_ID else None)
        if wanted is not None and wanted != req.context.user_id and not req.context.is_admin:
            raise Forbidden("Policy doesn't allow os_compute_api:os-keypairs:create to be "
                            "performed.", type="PolicyNotAuthorized")
        return str(wanted) if wanted is not None else None

    @staticmethod
    def _view(kp: dict[str, Any], version: Version, *, detail: bool) -> dict[str, Any]:
        out = {k: kp[k] for k in ("name", "public_key", "fingerprint")}
        if detail:
            out.update(user_id=kp["user_id"], deleted=False, created_at=kp["created_at"],
                       deleted_at=None, updated_at=None, id=kp["id"])
        if version >= TYPED:
            out["type"] = kp["type"]
        return out

    def create(self, req: Request) -> Response:
        version = microversion(req)
        _writer(req, "os-keypairs:create")
        kp = validate_create(req.json(), version)
        created = self.cloud.create_keypair(
            req.context, kp["name"], public_key=kp.get("public_key"),
            key_type=KeyType(kp.get("type", "ssh")),
            user_id=self._user(req, version, kp.get("user_id")))
        body = {k: created[k] for k in ("name", "public_key", "fingerprint", "user_id")}
        if "private_key" in created:
            body["private_key"] = created["private_key"]
        if version >= TYPED:
            body["type"] = created["type"]
        return Response(201 if version >= TYPED else 200, {"keypair": body},
                        version_headers(version))

    def list(self, req: Request) -> Response:
        version = microversion(req)
        found = self.cloud.get_keypairs(req.context, self._user(req, version))
        body = {"keypairs": [{"keypair": self._view(k, version, detail=False)} for k in found]}
        return Response(200, body, version_headers(version))

    def show(self, req: Request) -> Response:
        version = microversion(req)
        kp = self.cloud.get_keypair(req.context, req.params["name"], self._user(req, version))
        return Response(200, {"keypair": self._view(kp, version, detail=True)},
                        version_headers(version))

    def delete(self, req: Request) -> Response:
        version = microversion(req)
        _writer(req, "os-keypairs:delete")
        self.cloud.delete_keypair(req.context, req.params["name"], self._user(req, version))
        return Response(204 if version >= TYPED else 202, None, version_headers(version))
