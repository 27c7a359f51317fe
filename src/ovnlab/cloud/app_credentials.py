"""Keystone's application credentials (keystone/application_credential): a user delegates
some of its roles on one project to a named secret that authenticates on its own
(`methods: ["application_credential"]`), until it expires or is deleted. The secret is kept
only as a salted hash, as Keystone keeps it."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ovnlab.cloud.base import CloudBase, Doc
from ovnlab.cloud.context import Context
from ovnlab.cloud.identity import IMPLIES, ROLES, UNAUTHORIZED, IdentityOps, _hash, role_by_id
from ovnlab.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized

KIND = "application_credential"
_FIELDS = {"name", "description", "secret", "expires_at", "roles", "unrestricted",
           "access_rules"}


def _bad(message: str) -> BadRequest:
    return BadRequest(f"Invalid input for field '{message}'", type="ValidationError")


def _expiry(raw: Any) -> str | None:
    """Keystone takes an ISO 8601 time (naive ones are UTC) and shows it in UTC without an
    offset."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _bad("expires_at")
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _bad("expires_at") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.isoformat()  # naive UTC, as Keystone answers it


def not_found(cred_id: str) -> NotFound:
    return NotFound(f"Could not find Application Credential: {cred_id}.",
                    type="ApplicationCredentialNotFound")


class AppCredentialService:
    """Keystone's application credentials (`cloud.app_credentials`), a service of its own
    over the cloud's core and its identity (a user's scope, the roles)."""

    def __init__(self, core: CloudBase, identity: IdentityOps) -> None:
        self._core = core
        self._identity = identity

    def _own(self, ctx: Context, uid: str, action: str) -> None:
        """identity:*_application_credential: the user itself (or an admin reading)."""
        if uid != ctx.user_id and not (ctx.is_admin and action.startswith(("get", "list"))):
            raise Forbidden("You are not authorized to perform the requested action: "
                            f"identity:{action}.")

    def create_application_credential(self, ctx: Context, uid: str, body: Any) -> Doc:
        """From a project-scoped token: the given roles (default: all the token's) on its
        project; the answer carries the secret, once."""
        self._own(ctx, uid, "create_application_credential")
        b = body.get("application_credential") if isinstance(body, dict) else None
        if not isinstance(b, dict) or set(body) != {"application_credential"}:
            raise _bad("application_credential")
        extra = sorted(set(b) - _FIELDS)
        if extra:
            raise BadRequest(f"Additional properties are not allowed ({', '.join(extra)} "
                             "were unexpected)", type="ValidationError")
        name = b.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise _bad("name")
        if b.get("access_rules"):
            raise BadRequest("Application credential access rules are not supported by "
                             "this cloud", type="ValidationError")
        if not ctx.project_id:
            raise Forbidden("An application credential is created with a project-scoped "
                            "token.", type="ForbiddenAction")
        roles = self._delegated(ctx, b.get("roles"))
        secret = b.get("secret") or secrets.token_urlsafe(64)
        if not isinstance(secret, str):
            raise _bad("secret")
        with self._core._txn():
            if self._core.store.find_one(KIND, user_id=uid, name=name) is not None:
                raise Conflict(f"Conflict occurred attempting to store application_credential"
                               f" - Duplicate entry found with name {name}.",
                               type="Conflict")
            cred_id = self._core.ids.uuid().replace("-", "")
            doc: Doc = {"id": cred_id, "name": name, "user_id": uid,
                        "description": b.get("description"), "project_id": ctx.project_id,
                        "system": None, "expires_at": _expiry(b.get("expires_at")),
                        "unrestricted": bool(b.get("unrestricted", False)),
                        "roles": roles, "access_rules": [],
                        "salt": cred_id, "secret_hash": _hash(secret, cred_id)}
            self._core.store.put(KIND, cred_id, doc)
        return {**self._cred_view(doc), "secret": secret}

    def _delegated(self, ctx: Context, raw: Any) -> list[Doc]:
        """The roles asked for, each one the token has on its project."""
        if raw is None:
            names = list(ctx.roles)
        elif isinstance(raw, list) and all(isinstance(r, dict) for r in raw):
            names = []
            for r in raw:
                role = role_by_id(r["id"]) if isinstance(r.get("id"), str) else next(
                    (x for x in self._identity.get_roles() if x["name"] == r.get("name")), None)
                if role is None:
                    raise NotFound(f"Could not find role: {r.get('id') or r.get('name')}.",
                                   type="RoleNotFound")
                if role["name"] not in ctx.roles:
                    raise NotFound(f"Could not find role assignment with role: {role['id']}, "
                                   f"user or group: {ctx.user_id}, project, domain, or "
                                   f"system: {ctx.project_id}.", type="RoleAssignmentNotFound")
                names.append(role["name"])
        else:
            raise _bad("roles")
        return [{"id": role["id"], "name": role["name"], "domain_id": None}
                for role in self._identity.get_roles() if role["name"] in names]

    @staticmethod
    def _cred_view(doc: Doc) -> Doc:
        return {k: v for k, v in doc.items() if k not in ("salt", "secret_hash")}

    def get_application_credentials(self, ctx: Context, uid: str,
                                    name: str | None = None) -> list[Doc]:
        self._own(ctx, uid, "list_application_credentials")
        return [self._cred_view(d) for d in self._core.store.find(KIND, user_id=uid)
                if name is None or d["name"] == name]

    def get_application_credential(self, ctx: Context, uid: str, cred_id: str) -> Doc:
        self._own(ctx, uid, "get_application_credential")
        doc = self._core.store.get(KIND, cred_id)
        if doc is None or doc["user_id"] != uid:
            raise not_found(cred_id)
        return self._cred_view(doc)

    def delete_application_credential(self, ctx: Context, uid: str, cred_id: str) -> None:
        self._own(ctx, uid, "delete_application_credential")
        with self._core._txn():
            doc = self._core.store.get(KIND, cred_id)
            if doc is None or doc["user_id"] != uid:
                raise not_found(cred_id)
            self._core.store.delete(KIND, cred_id)

    def authenticate_application_credential(self, *, secret: str, cred_id: str | None = None,
                                            name: str | None = None,
                                            user: str | None = None) -> tuple[Context, Doc]:
        """The credential's context: its user on its project with only its roles (and
        what they imply); expired, deleted or a wrong secret is a 401."""
        doc = (self._core.store.get(KIND, cred_id) if cred_id else
               self._core.store.find_one(KIND, user_id=user, name=name) if user and name else None)
        if doc is None or not hmac.compare_digest(_hash(secret, doc["salt"]),
                                                  doc["secret_hash"]):
            raise Unauthorized(UNAUTHORIZED, type="Unauthorized")
        if doc["expires_at"] is not None and datetime.fromisoformat(
                doc["expires_at"]).replace(tzinfo=UTC).timestamp() <= self._core.clock():
            raise Unauthorized(UNAUTHORIZED, type="Unauthorized")
        ctx = self._identity.scope(doc["user_id"], doc["project_id"])  # 401 once the user lost it
        granted = {r["name"] for r in doc["roles"]} & set(ctx.roles)
        roles = tuple(n for n in ROLES if any(n in IMPLIES[m] for m in granted))
        return replace(ctx, roles=roles, is_admin="admin" in roles), self._cred_view(doc)
