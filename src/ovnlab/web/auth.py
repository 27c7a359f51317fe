"""Who may use the web view: a browser session (an HttpOnly cookie) opened either with the
lab's control token (the link `ovnlab up` and `ovnlab web` print; loopback only, as the
control API itself) or with an admin user's Keystone password (required off loopback,
where the token must not travel in a URL).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from ovnlab.cloud.identity import authenticate
from ovnlab.errors import BadRequest, Forbidden, Unauthorized

COOKIE = "ovnlab_web"
SESSION_SECONDS = 12 * 3600


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    expires: float


class Sessions:
    """The open sessions of one listener (in the daemon's memory: `ovnlab down` ends them)."""

    def __init__(self, token: str, *, token_allowed: bool) -> None:
        self._token = token
        self.token_allowed = token_allowed
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def login(self, topology: Any, body: dict[str, Any]) -> tuple[str, Session]:
        """A new session id for the control token or an admin's Keystone password."""
        if "token" in body:
            if not self.token_allowed:
                raise Forbidden("off loopback the web view takes Keystone credentials only")
            if not hmac.compare_digest(str(body["token"]).encode(), self._token.encode()):
                raise Unauthorized("the link's token is not this lab's (run `ovnlab web` "
                                   "for the current one)")
            user = "control token"
        else:
            missing = [k for k in ("username", "password") if not body.get(k)]
            if missing:
                raise BadRequest(f"missing {' and '.join(missing)}")
            ctx = authenticate(topology, str(body["username"]), str(body["password"]),
                               str(body.get("project") or "admin"))
            if not ctx.is_admin:
                raise Forbidden(f"user {body['username']!r} is not an admin: the web view "
                                "inspects every node, as the control API does")
            user = str(body["username"])
        sid = secrets.token_urlsafe(32)
        session = Session(user, time.time() + SESSION_SECONDS)
        with self._lock:
            self._sessions[sid] = session
        return sid, session

    def check(self, sid: str | None) -> Session:
        with self._lock:
            session = self._sessions.get(sid or "")
            if session is not None and session.expires < time.time():
                del self._sessions[sid or ""]
                session = None
        if session is None:
            raise Unauthorized("log in to the web view" + (
                " (open the link `ovnlab web` prints)" if self.token_allowed else ""))
        return session

    def logout(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)
