"""One domain error hierarchy, mapped to HTTP statuses (REST API) and exit codes (CLI).

`type` is the Neutron exception class name the REST layer puts in
``{"NeutronError": {"type", "message", "detail"}}``.
"""

from __future__ import annotations


class OvnlabError(Exception):
    """Base of every error ovnlab raises on purpose."""

    status: int = 500
    exit_code: int = 1

    def __init__(self, message: str, *, type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.type = type or self.__class__.__name__


class BadRequest(OvnlabError):
    status = 400


class Unauthorized(OvnlabError):
    status = 401


class Forbidden(OvnlabError):
    status = 403


class NotFound(OvnlabError):
    status = 404


class Conflict(OvnlabError):
    status = 409


class TopologyError(BadRequest):
    """A topology file or built-in spec is invalid; the message names the key."""


class LabNotRunning(OvnlabError):
    exit_code = 2


class LabRunning(OvnlabError):
    """Another daemon holds the state directory's lock."""


class StateError(OvnlabError):
    """A state directory that is not a lab, or a lab whose files are missing or damaged;
    the message names the file and what to do."""


class ToolError(OvnlabError):
    """A node tool failed the way the real tool does; `exit_code` is the tool's status."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
