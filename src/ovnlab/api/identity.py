"""Keystone v3: version documents, password and token authentication (scoped, unscoped,
rescoped), token validation, and the admin API for domains, projects, users, roles and role
assignments."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ovnlab.cloud.identity import DOMAIN, domain, role_id
from ovnlab.cloud.services import Keystone as Cloud
from ovnlab.errors import BadRequest, Forbidden, NotFound, OvnlabError, Unauthorized

from . import identity_appcreds as appcreds
from .http import Request, Response, Router, json_response
from .identity_appcreds import ApplicationCredentials

DEFAULT_DOMAIN = {"id": "default", "name": "Default"}
REGION = "RegionOne"
UPDATED = "2023-03-01T00:00:00Z"
IDENTITY_VERSION = "3.14"



@dataclass(frozen=True, slots=True)
class Token:
    id: str
    context: Any
    user_name: str
    project_name: str
    issued_at: float
    expires_at: float
    methods: tuple[str, ...] = ("password",)

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

    def issue(self, context: Any, user_name: str, project_name: str,
              methods: tuple[str, ...] = ("password",)) -> Token:
        now = self.clock()
        token = Token(secrets.token_hex(16), context, user_name, project_name, now,
                      now + self.ttl, methods)
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


def _unauthorized() -> Unauthorized:
    return Unauthorized("The request you have made requires authentication.")


class Keystone:
    def __init__(self, cloud: Cloud, tokens: TokenStore) -> None:
        self.cloud = cloud
        self.tokens = tokens

    def register(self, router: Router) -> None:
        for root in ("/identity", ""):
            if root:
                router.add("GET", root, self.versions, auth=False)
                router.add("GET", root + "/", self.versions, auth=False)
            v3 = root + "/v3"
            router.add("GET", v3, self.version, auth=False)
            router.add("GET", v3 + "/", self.version, auth=False)
            router.add("POST", v3 + "/auth/tokens", self.create_token, auth=False)
            router.add("GET", v3 + "/auth/tokens", self.check_token)
            router.add("HEAD", v3 + "/auth/tokens", self.check_token)
            router.add("DELETE", v3 + "/auth/tokens", self.revoke_token)
            router.add("GET", v3 + "/auth/catalog", self.auth_catalog)
            router.add("GET", v3 + "/auth/projects", self.auth_projects)
            router.add("GET", v3 + "/domains", self.list_domains)
            router.add("GET", v3 + "/domains/{id}", self.show_domain)
            router.add("GET", v3 + "/projects", self.list_projects)
            router.add("POST", v3 + "/projects", self.create_project)
            router.add("GET", v3 + "/projects/{id}", self.show_project)
            router.add("PATCH", v3 + "/projects/{id}", self.update_project)
            router.add("DELETE", v3 + "/projects/{id}", self.delete_project)
            grant = v3 + "/projects/{project}/users/{user}/roles"
            router.add("GET", grant, self.list_grants)
            router.add("GET", grant + "/{role}", self.check_grant)
            router.add("PUT", grant + "/{role}", self.grant)
            router.add("DELETE", grant + "/{role}", self.revoke)
            router.add("GET", v3 + "/users", self.list_users)
            router.add("POST", v3 + "/users", self.create_user)
            router.add("GET", v3 + "/users/{id}", self.show_user)
            router.add("PATCH", v3 + "/users/{id}", self.update_user)
            router.add("DELETE", v3 + "/users/{id}", self.delete_user)
            router.add("GET", v3 + "/users/{id}/projects", self.user_projects)
            router.add("GET", v3 + "/roles", self.list_roles)
            router.add("GET", v3 + "/roles/{id}", self.show_role)
            router.add("GET", v3 + "/role_assignments", self.list_role_assignments)
            ApplicationCredentials(self.cloud.app_credentials, _base).register(router, v3)

    def _v3(self, req: Request) -> dict[str, Any]:
        return {"id": f"v{IDENTITY_VERSION}", "status": "stable", "updated": UPDATED,
                "links": [{"rel": "self", "href": f"{_base(req)}/"}],
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

    # -- tokens
    def _token_body(self, token: Token, base: str) -> dict[str, Any]:
        ctx = token.context
        body: dict[str, Any] = {
            "methods": list(token.methods),
            "user": {"id": ctx.user_id, "name": token.user_name, "domain": DEFAULT_DOMAIN,
                     "password_expires_at": None},
            "audit_ids": [token.id[:22]],
            "issued_at": iso(token.issued_at),
            "expires_at": iso(token.expires_at),
        }
        if ctx.project_id:  # an unscoped token has no project, roles or catalog
            body.update(
                project={"id": ctx.project_id, "name": token.project_name,
                         "domain": DEFAULT_DOMAIN},
                roles=[{"id": role_id(r), "name": r} for r in ctx.roles],
                is_domain=False, catalog=self.catalog(base))
        return {"token": body}

    def _scope(self, scope: Any) -> str | None:
        """The project a token is asked for (its id or name), None for an unscoped one."""
        if scope is None or scope == "unscoped":
            return None
        project = _dig(scope, "project")
        if not isinstance(project, dict):
            raise BadRequest("ovnlab issues project-scoped or unscoped tokens only",
                             type="ValidationError")
        _check_domain(project.get("domain"), "scope.project")
        name = _str_or_none(project.get("name"), "scope.project.name")
        pid = _str_or_none(project.get("id"), "scope.project.id")
        if pid is None and name is None:
            raise BadRequest("Project scope needs a name or an id", type="ValidationError")
        return pid if pid is not None else name

    def _password_login(self, identity: dict[str, Any], project: str | None) -> Any:
        user = _dig(identity, "password", "user")
        if not isinstance(user, dict):
            raise BadRequest("Expecting to find user in password.", type="ValidationError")
        uid = _str_or_none(user.get("id"), "user.id")
        if uid is None:
            _check_domain(user.get("domain"), "identity.password.user")
        name = _str_or_none(user.get("name"), "user.name")
        password = _str_or_none(user.get("password"), "user.password")
        if (uid is None and name is None) or password is None:
            raise _unauthorized()
        if uid is not None:
            return self.cloud.identity.authenticate(uid, password, project, by_id=True)
        if name is None:  # (excluded above; said again for the type checker)
            raise _unauthorized()
        return self.cloud.identity.authenticate(name, password, project)

    def _token_login(self, identity: dict[str, Any], project: str | None) -> Any:
        """`methods: ["token"]`: rescoping an existing token (the user's, to a project)."""
        tid = _str_or_none(_dig(identity, "token", "id"), "token.id")
        try:
            old = self.tokens.validate(tid or "")
        except Unauthorized:
            raise _unauthorized() from None
        return self.cloud.identity.scope(old.context.user_id, project)

    def create_token(self, req: Request) -> Response:
        body = req.json()
        identity = _dig(body, "auth", "identity")
        if not isinstance(identity, dict):
            raise BadRequest("Expecting to find identity in auth. The server could not comply "
                             "with the request since it is either malformed or otherwise "
                             "incorrect. The client is assumed to be in error.",
                             type="ValidationError")
        methods = identity.get("methods")
        if not isinstance(methods, list) or not methods:
            raise _unauthorized()
        cred = None
        if appcreds.METHOD in methods:
            try:
                ctx, cred = appcreds.login(self.cloud, identity, _dig(body, "auth", "scope"))
            except NotFound:
                raise _unauthorized() from None
            token = self.tokens.issue(ctx, ctx.user_name, ctx.project_name, (appcreds.METHOD,))
            out = self._token_body(token, req.base_url)
            out["token"]["application_credential"] = {
                "id": cred["id"], "name": cred["name"], "restricted": not cred["unrestricted"]}
            return json_response(201, out, ("X-Subject-Token", token.id))
        project = self._scope(_dig(body, "auth", "scope"))
        try:
            if "password" in methods:
                ctx, method = self._password_login(identity, project), "password"
            elif "token" in methods:
                ctx, method = self._token_login(identity, project), "token"
            else:
                raise _unauthorized()
        except NotFound:
            raise _unauthorized() from None
        token = self.tokens.issue(ctx, ctx.user_name, ctx.project_name, (method,))
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

    def revoke_token(self, req: Request) -> Response:
        token = self._subject(req, "revoke_token")
        self.tokens.revoke(token.id)
        return Response(204)

    def auth_catalog(self, req: Request) -> Response:
        if not req.context.project_id:
            raise Forbidden("The authenticated token must be scoped to a project to get a "
                            "service catalog.")
        return json_response(200, {"catalog": self.catalog(req.base_url),
                                   "links": {"self": f"{_base(req)}/auth/catalog"}})

    def auth_projects(self, req: Request) -> Response:
        return self._listing(req, "projects",
                             self.cloud.identity.user_projects(req.context.user_id), "auth/projects")

    # -- the admin API (identity:* rules are admin-only, as Keystone's defaults for projects)
    def _admin(self, req: Request, action: str) -> None:
        if not getattr(req.context, "is_admin", False):
            raise Forbidden("You are not authorized to perform the requested action: "
                            f"identity:{action}.")

    def _listing(self, req: Request, kind: str, items: list[dict[str, Any]],
                 path: str | None = None) -> Response:
        base = f"{_base(req)}/{kind}"
        filters = {k: v[0] for k, v in req.query.items()
                   if k in ("name", "domain_id", "enabled", "default_project_id")}
        out = [{**i, "links": {"self": f"{base}/{i['id']}"}} for i in items
               if all(str(i.get(k)).lower() == v.lower() if isinstance(i.get(k), bool)
                      else i.get(k) == v for k, v in filters.items())]
        return json_response(200, {kind: out, "links": {
            "self": f"{_base(req)}/{path or kind}", "previous": None, "next": None}})

    def _one(self, req: Request, kind: str, item: dict[str, Any], status: int = 200
             ) -> Response:
        link = f"{_base(req)}/{kind}s/{item['id']}"
        return json_response(status, {kind: {**item, "links": {"self": link}}})

    def list_domains(self, req: Request) -> Response:
        self._admin(req, "list_domains")
        return self._listing(req, "domains", [domain()])

    def show_domain(self, req: Request) -> Response:
        if req.params["id"] != DOMAIN:
            self._admin(req, "get_domain")
            raise NotFound(f"Could not find domain: {req.params['id']}.")
        return self._one(req, "domain", domain())

    def list_projects(self, req: Request) -> Response:
        self._admin(req, "list_projects")
        return self._listing(req, "projects", self.cloud.identity.get_projects())

    def show_project(self, req: Request) -> Response:
        if req.params["id"] != getattr(req.context, "project_id", None):
            self._admin(req, "get_project")
        return self._one(req, "project", self.cloud.identity.get_project(req.params["id"]))

    def create_project(self, req: Request) -> Response:
        self._admin(req, "create_project")
        return self._one(req, "project", self.cloud.identity.create_project(req.json()), 201)

    def update_project(self, req: Request) -> Response:
        self._admin(req, "update_project")
        return self._one(req, "project",
                         self.cloud.identity.update_project(req.params["id"], req.json()))

    def delete_project(self, req: Request) -> Response:
        self._admin(req, "delete_project")
        self.cloud.identity.delete_project(req.params["id"])
        return Response(204)

    def list_users(self, req: Request) -> Response:
        self._admin(req, "list_users")
        return self._listing(req, "users", self.cloud.identity.get_users())

    def show_user(self, req: Request) -> Response:
        if req.params["id"] != getattr(req.context, "user_id", None):
            self._admin(req, "get_user")
        return self._one(req, "user", self.cloud.identity.get_user(req.params["id"]))

    def create_user(self, req: Request) -> Response:
        self._admin(req, "create_user")
        return self._one(req, "user", self.cloud.identity.create_user(req.json()), 201)

    def update_user(self, req: Request) -> Response:
        self._admin(req, "update_user")
        return self._one(req, "user", self.cloud.identity.update_user(req.params["id"], req.json()))

    def delete_user(self, req: Request) -> Response:
        self._admin(req, "delete_user")
        self.cloud.identity.delete_user(req.params["id"])
        return Response(204)

    def user_projects(self, req: Request) -> Response:
        if req.params["id"] != getattr(req.context, "user_id", None):
            self._admin(req, "list_user_projects")
        return self._listing(req, "projects", self.cloud.identity.user_projects(req.params["id"]),
                             f"users/{req.params['id']}/projects")

    def list_roles(self, req: Request) -> Response:
        self._admin(req, "list_roles")
        return self._listing(req, "roles", self.cloud.identity.get_roles())

    def show_role(self, req: Request) -> Response:
        self._admin(req, "get_role")
        return self._one(req, "role", self.cloud.identity.get_role(req.params["id"]))

    def _grant_args(self, req: Request) -> tuple[str, str, str]:
        return req.params["project"], req.params["user"], req.params["role"]

    def list_grants(self, req: Request) -> Response:
        self._admin(req, "list_grants")
        roles = self.cloud.identity.project_user_roles(req.params["project"], req.params["user"])
        return self._listing(req, "roles", roles, req.path.split("/v3/", 1)[-1])

    def check_grant(self, req: Request) -> Response:
        self._admin(req, "check_grant")
        self.cloud.identity.check_grant(*self._grant_args(req))
        return Response(204)

    def grant(self, req: Request) -> Response:
        self._admin(req, "create_grant")
        self.cloud.identity.grant_role(*self._grant_args(req))
        return Response(204)

    def revoke(self, req: Request) -> Response:
        self._admin(req, "revoke_grant")
        self.cloud.identity.revoke_role(*self._grant_args(req))
        return Response(204)

    def list_role_assignments(self, req: Request) -> Response:
        self._admin(req, "list_role_assignments")
        found = self.cloud.identity.role_assignments(user=req.q1("user.id"),
                                            project=req.q1("scope.project.id"),
                                            role_=req.q1("role.id"))
        base = _base(req)
        names = "include_names" in req.query and (
            req.q1("include_names") or "").lower() not in ("0", "false")
        out = []
        for a in found:
            role = {"id": a["role_id"]}
            user: dict[str, Any] = {"id": a["user_id"]}
            project: dict[str, Any] = {"id": a["project_id"]}
            if names:  # ?include_names: names and domains, as `role assignment list --names`
                role["name"] = self.cloud.identity.get_role(a["role_id"])["name"]
                user.update(name=self.cloud.identity.get_user(a["user_id"])["name"],
                            domain=DEFAULT_DOMAIN)
                project.update(name=self.cloud.identity.get_project(a["project_id"])["name"],
                               domain=DEFAULT_DOMAIN)
            out.append({"role": role, "user": user, "scope": {"project": project},
                        "links": {"assignment": f"{base}/projects/{a['project_id']}/users/"
                                                f"{a['user_id']}/roles/{a['role_id']}"}})
        return json_response(200, {"role_assignments": out, "links": {
            "self": f"{base}/role_assignments", "previous": None, "next": None}})


def _base(req: Request) -> str:
    """This request's Keystone v3 root URL (with or without the /identity prefix)."""
    root = "/identity" if req.path.startswith("/identity") else ""
    return f"{req.base_url}{root}/v3"
