"""Keystone v3: version documents, password tokens with a catalog, token validation."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ovnlab.errors import BadRequest, Forbidden, NotFound, OvnlabError, Unauthorized

from .http import Request, Response, Router, json_response

DEFAULT_DOMAIN = {"id": "default", "name": "Default"}
REGION = "RegionOne"
UPDATED = "2023-03-01T00:00:00Z"
IDENTITY_VERSION = "3.14"

Cloud = Any


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    context: Any
    user_name: str
    project_name: str
    issued_at: float
    expires_at: float

    @property
    def is_admin(self) -> bool:
        return bool(getattr(self.context, "is_admin", False))


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def keystone_error(e: OvnlabError) -> dict[str, Any]:
    # Keystone's titles are the HTTP reason phrases (413: "Request Entity Too Large")
    return {"error": {"code": e.status, "title": HTTPStatus(e.status).phrase,
                      "message": e.message}}


class TokenStore:
    """Issued tokens; ids are random (they are credentials, not behaviour), expiry follows
    the injected clock."""

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self.clock = clock
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def issue(self, context: Any, user_name: str, project_name: str) -> Token:
        now = self.clock()
        token = Token(secrets.token_hex(16), context, user_name, project_name, now,
                      now + self.ttl)
        with self._lock:
            self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > now}
            self._tokens[token.id] = token
        return token

    def validate(self, token_id: str) -> Token:
        with self._lock:
            token = self._tokens.get(token_id)
        if token is None or token.expires_at <= self.clock():
            raise Unauthorized("The request you have made requires authentication.")
        return token

    def revoke(self, token_id: str) -> None:
        with self._lock:
            self._tokens.pop(token_id, None)


def _dig(body: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def _str_or_none(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input for field '{what}': {value!r} is not of type 'string'",
                         type="ValidationError")
    return value


def _check_domain(domain: Any, what: str) -> None:
    """Only the Default domain exists; name or id may name it."""
    if domain is None:
        return
    if not isinstance(domain, dict):
        raise BadRequest(f"Invalid input for field '{what}.domain': {domain!r} is not of type "
                         "'object'", type="ValidationError")
    name, did = domain.get("name"), domain.get("id")
    if (name is not None and name != "Default") or (did is not None and did != "default"):
        raise Unauthorized("The request you have made requires authentication.")


class Keystone:
    def __init__(self, cloud: Cloud, tokens: TokenStore) -> None:
        self.cloud = cloud
        self.tokens = tokens

    def register(self, router: Router) -> None:
        for root in ("/identity", ""):
            if root:
                router.add("GET", root, self.versions, auth=False)
                router.add("GET", root + "/", self.versions, auth=False)
            router.add("GET", root + "/v3", self.version, auth=False)
            router.add("GET", root + "/v3/", self.version, auth=False)
            router.add("POST", root + "/v3/auth/tokens", self.create_token, auth=False)
            router.add("GET", root + "/v3/auth/tokens", self.check_token)
            router.add("HEAD", root + "/v3/auth/tokens", self.check_token)
            router.add("DELETE", root + "/v3/auth/tokens", self.revoke_token)
            router.add("GET", root + "/v3/projects", self.list_projects)
            router.add("GET", root + "/v3/projects/{id}", self.show_project)
            router.add("GET", root + "/v3/users", self.list_users)
            router.add("GET", root + "/v3/users/{id}", self.show_user)

    def _v3(self, req: Request) -> dict[str, Any]:
        root = "/identity" if req.path.startswith("/identity") else ""
        return {"id": f"v{IDENTITY_VERSION}", "status": "stable", "updated": UPDATED,
                "links": [{"rel": "self", "href": f"{req.base_url}{root}/v3/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.identity-v3+json"}]}

    def versions(self, req: Request) -> Response:
        return json_response(300, {"versions": {"values": [self._v3(req)]}})

    def version(self, req: Request) -> Response:
        return json_response(200, {"version": self._v3(req)})

    def catalog(self, base: str) -> list[dict[str, Any]]:
        services = (("identity", "keystone", "/identity/v3"), ("network", "neutron",
                    "/networking"), ("compute", "nova", "/compute/v2.1"),
                    ("image", "glance", "/image"))
        return [{"id": f"{name}-service", "type": typ, "name": name, "endpoints": [
            {"id": f"{name}-public", "interface": "public", "region": REGION,
             "region_id": REGION, "url": base + path}]} for typ, name, path in services]

    def _token_body(self, token: Token, base: str) -> dict[str, Any]:
        ctx = token.context
        roles = [{"id": "reader", "name": "reader"}, {"id": "member", "name": "member"}]
        if token.is_admin:
            roles.append({"id": "admin", "name": "admin"})
        return {"token": {
            "methods": ["password"],
            "user": {"id": ctx.user_id, "name": token.user_name, "domain": DEFAULT_DOMAIN,
                     "password_expires_at": None},
            "project": {"id": ctx.project_id, "name": token.project_name,
                        "domain": DEFAULT_DOMAIN},
            "roles": roles,
            "is_domain": False,
            "audit_ids": [token.id[:22]],
            "issued_at": iso(token.issued_at),
            "expires_at": iso(token.expires_at),
            "catalog": self.catalog(base),
        }}

    def _project_name(self, scope: Any) -> str:
        project = _dig(scope, "project")
        if not isinstance(project, dict):
            raise BadRequest("ovnlab issues project-scoped tokens only: give a project scope",
                             type="ValidationError")
        _check_domain(project.get("domain"), "scope.project")
        name = _str_or_none(project.get("name"), "scope.project.name")
        pid = _str_or_none(project.get("id"), "scope.project.id")
        if name is not None:
            return name
        if pid is None:
            raise BadRequest("Project scope needs a name or an id", type="ValidationError")
        for p in self.cloud.get_projects():
            if p.get("id") == pid:
                return str(p["name"])
        raise Unauthorized("The request you have made requires authentication.")

    def create_token(self, req: Request) -> Response:
        body = req.json()
        identity = _dig(body, "auth", "identity")
        if not isinstance(identity, dict):
            raise BadRequest("Expecting to find identity in auth. The server could not comply "
                             "with the request since it is either malformed or otherwise "
                             "incorrect. The client is assumed to be in error.",
                             type="ValidationError")
        methods = identity.get("methods")
        if not isinstance(methods, list) or "password" not in methods:
            raise Unauthorized("The request you have made requires authentication.")
        user = _dig(identity, "password", "user")
        if not isinstance(user, dict):
            raise BadRequest("Expecting to find user in password.", type="ValidationError")
        _check_domain(user.get("domain"), "identity.password.user")
        user_name = _str_or_none(user.get("name"), "user.name")
        password = _str_or_none(user.get("password"), "user.password")
        if user_name is None or password is None:
            raise Unauthorized("The request you have made requires authentication.")
        project_name = self._project_name(_dig(body, "auth", "scope"))
        try:
            ctx = self.cloud.authenticate(user_name, password, project_name)
        except (Unauthorized, NotFound):
            raise Unauthorized("The request you have made requires authentication.") from None
        token = self.tokens.issue(ctx, user_name, project_name)
        return json_response(201, self._token_body(token, req.base_url),
                             ("X-Subject-Token", token.id))

    def _subject(self, req: Request, action: str) -> Token:
        """The X-Subject-Token, if the caller may act on it. Keystone's policy
        (`identity:validate_token`, `check_token`, `revoke_token`): an admin or the token's
        own user (`token_subject`); an unknown or expired token is a 404 to anyone, as the
        enforcer validates the subject token before checking the rule."""
        subject = req.header("X-Subject-Token")
        try:
            token = self.tokens.validate(subject)
        except Unauthorized:
            raise NotFound(f"Could not find token: {subject}.") from None
        if token.context.user_id != req.context.user_id:
            self._admin(req, action)
        return token

    def check_token(self, req: Request) -> Response:
        action = "check_token" if req.method == "HEAD" else "validate_token"
        token = self._subject(req, action)
        return json_response(200, self._token_body(token, req.base_url),
                             ("X-Subject-Token", token.id))

    # -- read-only projects and users (from the topology), admin-only as Keystone's policy
    def _admin(self, req: Request, action: str) -> None:
        if not getattr(req.context, "is_admin", False):
            raise Forbidden("You are not authorized to perform the requested action: "
                            f"identity:{action}.")

    def _listing(self, req: Request, kind: str, items: list[dict[str, Any]]) -> Response:
        root = "/identity" if req.path.startswith("/identity") else ""
        base = f"{req.base_url}{root}/v3/{kind}"
        name = req.q1("name")
        out = [{**i, "links": {"self": f"{base}/{i['id']}"}} for i in items
               if name is None or i.get("name") == name]
        return json_response(200, {kind: out, "links": {"self": base, "previous": None,
                                                        "next": None}})

    def _member(self, req: Request, kind: str, items: list[dict[str, Any]]) -> Response:
        root = "/identity" if req.path.startswith("/identity") else ""
        wanted = req.params["id"]
        for i in items:
            if i["id"] == wanted:
                link = f"{req.base_url}{root}/v3/{kind}s/{i['id']}"
                return json_response(200, {kind: {**i, "links": {"self": link}}})
        raise NotFound(f"Could not find {kind}: {wanted}.")

    def list_projects(self, req: Request) -> Response:
        self._admin(req, "list_projects")
        return self._listing(req, "projects", self.cloud.get_projects())

    def show_project(self, req: Request) -> Response:
        if req.params["id"] != getattr(req.context, "project_id", None):
            self._admin(req, "get_project")
        return self._member(req, "project", self.cloud.get_projects())

    def list_users(self, req: Request) -> Response:
        self._admin(req, "list_users")
        return self._listing(req, "users", self.cloud.get_users())

    def show_user(self, req: Request) -> Response:
        if req.params["id"] != getattr(req.context, "user_id", None):
            self._admin(req, "get_user")
        return self._member(req, "user", self.cloud.get_users())

    def revoke_token(self, req: Request) -> Response:
        token = self._subject(req, "revoke_token")
        self.tokens.revoke(token.id)
        return Response(204)
