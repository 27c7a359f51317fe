"""Keystone's part: the Default domain, projects, users, the three default roles and role
assignments on projects, persisted with the rest of the cloud. The topology's projects and
users are the initial ones (ids derived from names, 32 hex digits as Keystone's, so they are
the same in every lab built from the topology); the admin API adds more."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from ovnlab.cloud.base import CloudBase, Doc
from ovnlab.cloud.context import Context
from ovnlab.cloud.ids import stable_hex
from ovnlab.cloud.secgroups import SecurityGroupService
from ovnlab.errors import BadRequest, Conflict, NotFound, Unauthorized
from ovnlab.topology import Topology

DOMAIN = "default"
DOMAIN_NAME = "Default"
# keystone-manage bootstrap's roles; admin implies member implies reader.
ROLES = ("reader", "member", "admin")
IMPLIES = {"admin": ("admin", "member", "reader"), "member": ("member", "reader"),
           "reader": ("reader",)}
UNAUTHORIZED = "The request you have made requires authentication."
PROJECT_ATTRS = {"name", "description", "enabled", "domain_id", "parent_id", "is_domain",
                 "tags", "options"}
USER_ATTRS = {"name", "password", "enabled", "domain_id", "default_project_id",
              "description", "email", "options"}


def project_id(name: str) -> str:
    return stable_hex("project", name)


def user_id(name: str) -> str:
    return stable_hex("user", name)


def role_id(name: str) -> str:
    return stable_hex("role", name)


def domain() -> Doc:
    return {"id": DOMAIN, "name": DOMAIN_NAME, "description": "The default domain",
            "enabled": True, "tags": [], "options": {}}


def role(name: str) -> Doc:
    return {"id": role_id(name), "name": name, "domain_id": None, "description": None,
            "options": {}}


def _hash(password: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1000).hex()


def _invalid(field: str, reason: str) -> BadRequest:
    return BadRequest(f"Invalid input for field '{field}': {reason}", type="ValidationError")


def _check(body: Any, kind: str, allowed: set[str], *, create: bool) -> Doc:
    """Keystone's JSON schema for a project or user body, the parts that matter here."""
    if not isinstance(body, dict) or not isinstance(body.get(kind), dict):
        raise _invalid(kind, f"'{kind}' is a required property")
    b = dict(body[kind])
    limit = 64 if kind == "project" else 255  # Keystone's schemas' maxLength
    if create and "name" not in b:
        raise _invalid("name", "'name' is a required property")
    for key, value in b.items():
        if key == "name" and (not isinstance(value, str) or not 1 <= len(value) <= limit):
            raise _invalid("name", f"{value!r} is not a valid name")
        if key == "enabled" and not isinstance(value, bool):
            raise _invalid("enabled", f"{value!r} is not of type 'boolean'")
        if key in ("description", "password", "default_project_id", "email", "domain_id",
                   "parent_id") and value is not None and not isinstance(value, str):
            raise _invalid(key, f"{value!r} is not of type 'string', 'null'")
        if key == "password" and value is not None and len(value) > 4096:
            raise _invalid(key, "password is too long")
        if key not in allowed and (not isinstance(value, (str, int, float, bool))
                                   or (isinstance(value, str) and len(value) > 255)):
            raise _invalid(key, f"{value!r} is not a valid extra attribute")
    if b.get("domain_id") not in (None, DOMAIN):
        raise _invalid("domain_id", "only the Default domain exists")
    return b


def role_by_id(rid: str) -> Doc | None:
    """The role with id `rid` (None: no such role)."""
    return next((role(n) for n in ROLES if role_id(n) == rid), None)


class IdentityOps:
    """Keystone (`cloud.identity`), a service of the cloud of its own: projects, users and
    role assignments in the store (kinds `project`, `user`, `role_assignment`), passwords
    only as salted hashes; a new project gets Neutron's default security group."""

    def __init__(self, core: CloudBase, security_groups: SecurityGroupService) -> None:
        self._core = core
        self._security_groups = security_groups

    # ------------------------------------------------------------ seeding
    def seed(self, topology: Topology) -> None:
        """The topology's projects, users and roles (at every start: idempotent)."""
        with self._core._txn():
            for p in topology.projects:
                pid = project_id(p.name)
                new_project = self._core.store.get("project", pid) is None
                if new_project:
                    self._save_project({"id": pid, "name": p.name})
                for u in p.users:
                    uid = user_id(u.name)
                    new_user = self._core.store.get("user", uid) is None
                    if new_user:
                        self._save_user({"id": uid, "name": u.name, "password": u.password,
                                         "default_project_id": pid})
                    if new_project or new_user:  # later grants and revokes are the API's
                        self._assign(pid, uid, role_id("admin" if u.admin else "member"))

    # ------------------------------------------------------------ authentication
    def authenticate(self, user: str, password: str, project: str | None,
                     *, by_id: bool = False) -> Context:
        """A password login (user by name, or by id with by_id), scoped to a project by name
        or id where the user has a role, or unscoped (project None)."""
        u = (self._core.store.get("user", user) if by_id
             else self._core.store.find_one("user", name=user, domain_id=DOMAIN))
        if u is None or not u["enabled"] or not hmac.compare_digest(
                _hash(password, u["salt"]), u["password_hash"]):
            raise Unauthorized(UNAUTHORIZED, type="Unauthorized")
        return self.scope(u["id"], project)

    def scope(self, uid: str, project: str | None) -> Context:
        """The user's context on a project (by name or id), or unscoped; Unauthorized when
        the user has no role there (what rescoping a token checks too)."""
        u = self._core.store.get("user", uid)
        if u is None or not u["enabled"]:
            raise Unauthorized(UNAUTHORIZED, type="Unauthorized")
        if project is None:
            return Context(uid, "", False, u["name"], "", ())
        p = self._core.store.get("project", project) or self._core.store.find_one(
            "project", name=project, domain_id=DOMAIN)
        roles = self.effective_roles(uid, p["id"]) if p is not None and p["enabled"] else ()
        if not roles or p is None:
            raise Unauthorized(UNAUTHORIZED, type="Unauthorized")
        return Context(uid, p["id"], "admin" in roles, u["name"], p["name"], roles)

    def effective_roles(self, uid: str, pid: str) -> tuple[str, ...]:
        """Role names on the project, implied ones included (admin ⊃ member ⊃ reader)."""
        names = {r["name"] for a in self._core.store.find("role_assignment", user_id=uid,
                                                    project_id=pid)
                 if (r := self._role(a["role_id"])) is not None}
        return tuple(n for n in ROLES if any(n in IMPLIES[m] for m in names))

    # ------------------------------------------------------------ projects
    def get_projects(self) -> list[Doc]:
        return [self._project_view(p) for p in self._core.store.all("project")]

    def get_project(self, pid: str) -> Doc:
        return self._project_view(self._project(pid))

    def create_project(self, body: Any) -> Doc:
        b = _check(body, "project", PROJECT_ATTRS, create=True)
        with self._core._txn():
            self._unique("project", b["name"])
            project = self._save_project({**b, "id": self._core.ids.uuid().replace("-", "")})
            self._security_groups.ensure_default_sg(project["id"])  # Neutron creates it on first use
        return self._project_view(project)

    def update_project(self, pid: str, body: Any) -> Doc:
        b = _check(body, "project", PROJECT_ATTRS, create=False)
        with self._core._txn():
            project = self._project(pid)
            if "name" in b and b["name"] != project["name"]:
                self._unique("project", b["name"])
            project.update({k: v for k, v in b.items() if k not in ("id", "domain_id")})
            self._core.store.put("project", pid, project)
        return self._project_view(project)

    def delete_project(self, pid: str) -> None:
        with self._core._txn():
            self._project(pid)
            for a in self._core.store.find("role_assignment", project_id=pid):
                self._core.store.delete("role_assignment", a["id"])
            self._core.store.delete("project", pid)

    def _project(self, pid: str) -> Doc:
        project = self._core.store.get("project", pid)
        if project is None:
            raise NotFound(f"Could not find project: {pid}.", type="ProjectNotFound")
        return project

    def _save_project(self, b: Doc) -> Doc:
        project = {"description": "", "enabled": True, "tags": [], "options": {}, **b,
                   "domain_id": DOMAIN, "parent_id": DOMAIN, "is_domain": False}
        self._core.store.put("project", project["id"], project)
        return project

    @staticmethod
    def _project_view(p: Doc) -> Doc:
        return dict(p)

    # ------------------------------------------------------------ users
    def get_users(self) -> list[Doc]:
        return [self._user_view(u) for u in self._core.store.all("user")]

    def get_user(self, uid: str) -> Doc:
        return self._user_view(self._user(uid))

    def create_user(self, body: Any) -> Doc:
        b = _check(body, "user", USER_ATTRS, create=True)
        with self._core._txn():
            self._unique("user", b["name"])
            if b.get("default_project_id"):
                self._project(b["default_project_id"])
            user = self._save_user({**b, "id": self._core.ids.uuid().replace("-", "")})
        return self._user_view(user)

    def update_user(self, uid: str, body: Any) -> Doc:
        b = _check(body, "user", USER_ATTRS, create=False)
        with self._core._txn():
            user = self._user(uid)
            if "name" in b and b["name"] != user["name"]:
                self._unique("user", b["name"])
            if "password" in b:
                user.update(self._password(uid, b.pop("password")))
            user.update({k: v for k, v in b.items() if k not in ("id", "domain_id")})
            self._core.store.put("user", uid, user)
        return self._user_view(user)

    def delete_user(self, uid: str) -> None:
        with self._core._txn():
            self._user(uid)
            for a in self._core.store.find("role_assignment", user_id=uid):
                self._core.store.delete("role_assignment", a["id"])
            self._core.store.delete("user", uid)

    def user_projects(self, uid: str) -> list[Doc]:
        self._user(uid)
        pids = {a["project_id"] for a in self._core.store.find("role_assignment", user_id=uid)}
        return [self._project_view(p) for p in self._core.store.all("project") if p["id"] in pids]

    def _user(self, uid: str) -> Doc:
        user = self._core.store.get("user", uid)
        if user is None:
            raise NotFound(f"Could not find user: {uid}.", type="UserNotFound")
        return user

    @staticmethod
    def _password(uid: str, password: str | None) -> Doc:
        # The salt is derived from the user id so that a lab replays to the same store; no
        # password is an empty hash, which no login matches.
        salt = stable_hex("salt", uid, length=16)
        return {"salt": salt, "password_hash": "" if password is None else _hash(password, salt)}

    def _save_user(self, b: Doc) -> Doc:
        password = b.pop("password", None)
        user = {"enabled": True, "password_expires_at": None, "options": {}, **b,
                "domain_id": DOMAIN, **self._password(b["id"], password)}
        self._core.store.put("user", user["id"], user)
        return user

    @staticmethod
    def _user_view(u: Doc) -> Doc:
        return {k: v for k, v in u.items() if k not in ("salt", "password_hash")}

    def _unique(self, kind: str, name: str) -> None:
        if self._core.store.find_one(kind, name=name, domain_id=DOMAIN) is None:
            return
        detail = (f"it is not permitted to have two projects with the same name in the same "
                  f"domain : {name}" if kind == "project" else
                  f"Duplicate entry found with name {name} at domain ID {DOMAIN}")
        raise Conflict(f"Conflict occurred attempting to store {kind} - {detail}.",
                       type="Conflict")

    # ------------------------------------------------------------ roles and assignments
    def get_roles(self) -> list[Doc]:
        return [role(n) for n in ROLES]

    def get_role(self, rid: str) -> Doc:
        found = self._role(rid)
        if found is None:
            raise NotFound(f"Could not find role: {rid}.", type="RoleNotFound")
        return found

    @staticmethod
    def _role(rid: str) -> Doc | None:
        return role_by_id(rid)

    def _assignment_key(self, pid: str, uid: str, rid: str) -> str:
        self._project(pid)
        self._user(uid)
        self.get_role(rid)
        return f"{pid}:{uid}:{rid}"

    def _assign(self, pid: str, uid: str, rid: str) -> None:
        key = f"{pid}:{uid}:{rid}"
        self._core.store.put("role_assignment", key, {"id": key, "project_id": pid, "user_id": uid,
                                                "role_id": rid})

    def grant_role(self, pid: str, uid: str, rid: str) -> None:
        with self._core._txn():
            self._assignment_key(pid, uid, rid)
            self._assign(pid, uid, rid)

    def check_grant(self, pid: str, uid: str, rid: str) -> None:
        key = self._assignment_key(pid, uid, rid)
        if self._core.store.get("role_assignment", key) is None:
            raise NotFound(f"Could not find role assignment with role: {rid}, user or group: "
                           f"{uid}, project, domain, or system: {pid}.",
                           type="RoleAssignmentNotFound")

    def revoke_role(self, pid: str, uid: str, rid: str) -> None:
        with self._core._txn():
            self.check_grant(pid, uid, rid)
            self._core.store.delete("role_assignment", f"{pid}:{uid}:{rid}")

    def project_user_roles(self, pid: str, uid: str) -> list[Doc]:
        self._project(pid)
        self._user(uid)
        return [r for a in self._core.store.find("role_assignment", project_id=pid, user_id=uid)
                if (r := self._role(a["role_id"])) is not None]

    def role_assignments(self, *, user: str | None = None, project: str | None = None,
                         role_: str | None = None) -> list[Doc]:
        want = {k: v for k, v in (("user_id", user), ("project_id", project),
                                  ("role_id", role_)) if v is not None}
        return [a for a in self._core.store.find("role_assignment", **want)]
