"""The request context: who is asking (Neutron's `neutron_lib.context.Context`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Context:
    user_id: str
    project_id: str
    is_admin: bool = False
    user_name: str = ""
    project_name: str = ""
    roles: tuple[str, ...] = ()  # Keystone role names on the project, implied ones included

    @property
    def reader_only(self) -> bool:
        """A `reader` without `member`: the default policies let it read, never write."""
        return "reader" in self.roles and "member" not in self.roles and not self.is_admin

    def elevated(self) -> Context:
        """The same caller with admin rights (what Neutron/Nova use for internal steps)."""
        return Context(self.user_id, self.project_id, True, self.user_name, self.project_name,
                       self.roles)


def admin_context() -> Context:
    """A project-less admin context for internal work (port status events, resync)."""
    return Context(user_id="", project_id="", is_admin=True)
