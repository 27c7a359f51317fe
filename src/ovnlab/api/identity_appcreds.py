"""Keystone's `/v3/users/{user_id}/application_credentials` and the
`application_credential` auth method's request part (keystone/api/users.py,
keystone/auth/plugins/application_credential.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ovnlab.cloud.services import AppCredentials as Cloud
from ovnlab.cloud.services import Keystone
from ovnlab.errors import BadRequest, Unauthorized

from .http import Request, Response, Router, json_response

METHOD = "application_credential"


class ApplicationCredentials:
    def __init__(self, cloud: Cloud, base: Callable[[Request], str]) -> None:
        self.cloud = cloud
        self.base = base

    def register(self, router: Router, v3: str) -> None:
        coll = v3 + "/users/{id}/application_credentials"
        router.add("GET", coll, self.list)
        router.add("POST", coll, self.create)
        router.add("GET", coll + "/{cred}", self.show)
        router.add("DELETE", coll + "/{cred}", self.delete)

    def _linked(self, req: Request, cred: dict[str, Any]) -> dict[str, Any]:
        link = f"{self.base(req)}/users/{cred['user_id']}/application_credentials/{cred['id']}"
        return {**cred, "links": {"self": link}}

    def create(self, req: Request) -> Response:
        cred = self.cloud.create_application_credential(req.context, req.params["id"],
                                                        req.json())
        return json_response(201, {"application_credential": self._linked(req, cred)})

    def list(self, req: Request) -> Response:
        creds = self.cloud.get_application_credentials(req.context, req.params["id"],
                                                       req.q1("name"))
        self_link = f"{self.base(req)}/users/{req.params['id']}/application_credentials"
        return json_response(200, {"application_credentials": [
            self._linked(req, c) for c in creds], "links": {
            "self": self_link, "previous": None, "next": None}})

    def show(self, req: Request) -> Response:
        cred = self.cloud.get_application_credential(req.context, req.params["id"],
                                                     req.params["cred"])
        return json_response(200, {"application_credential": self._linked(req, cred)})

    def delete(self, req: Request) -> Response:
        self.cloud.delete_application_credential(req.context, req.params["id"],
                                                 req.params["cred"])
        return Response(204)


def login(cloud: Keystone, identity: dict[str, Any], scope: Any) -> tuple[Any, dict[str, Any]]:
    """`identity.application_credential`: {id, secret} or {name, secret, user: {id} or
    {name, domain}}; the credential fixes the scope, so asking for one is refused."""
    if scope is not None:
        raise Unauthorized("The request you have made requires authentication.")
    cred = identity.get(METHOD)
    if not isinstance(cred, dict) or not isinstance(cred.get("secret"), str):
        raise BadRequest("Expecting to find secret in application_credential.",
                         type="ValidationError")
    raw = cred.get("user")
    user: dict[str, Any] = raw if isinstance(raw, dict) else {}
    uid = user.get("id")
    if uid is None and isinstance(user.get("name"), str):
        found = next((u for u in cloud.identity.get_users() if u["name"] == user["name"]), None)
        uid = found["id"] if found else None
    return cloud.app_credentials.authenticate_application_credential(
        secret=cred["secret"], cred_id=cred.get("id") if isinstance(cred.get("id"), str)
        else None, name=cred.get("name") if isinstance(cred.get("name"), str) else None,
        user=uid if isinstance(uid, str) else None)
