"""The cloud as the APIs and the `openstack` verbs see it on any backend: every call that
may change the lab converges it afterwards, serialised with the lab's other requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from ovnlab.cloud import Cloud


class ConvergingCloud:
    """A cloud proxy that converges the lab after every call that may change it: every
    call but reads, and a read that wrote the NB all the same (`get_agents` pings the
    chassis through NB_Global.nb_cfg, which northd and the controllers answer at once,
    as the real daemons would, not at the next request)."""

    def __init__(self, cloud: Any, converge: Callable[[], None], nb_seqno: Callable[[], int],
                 lock: AbstractContextManager[Any] | None = None) -> None:
        self._cloud = cloud
        self._converge = converge
        self._nb_seqno = nb_seqno
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._cloud, name)
        if name in Cloud.SERVICES:  # a composed service (`cloud.nova`...): its calls converge too
            return ConvergingCloud(attr, self._converge, self._nb_seqno, self._lock)
        if not callable(attr):
            return attr
        mutating = not name.startswith(("get_", "authenticate"))

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._locked():
                seqno = self._nb_seqno()
                try:
                    return attr(*args, **kwargs)
                finally:
                    if mutating or self._nb_seqno() != seqno:
                        self._converge()

        return call

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock is None:
            yield
        else:
            with self._lock:
                yield
