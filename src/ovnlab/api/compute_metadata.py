"""Nova v2.1 server metadata (nova/api/openstack/compute/server_metadata.py)."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud.services import NovaNetworking as Cloud
from ovnlab.errors import BadRequest, NotFound

from .compute_schema import _validate_metadata
from .http import Request, Response, Router
from .microversions import microversion, version_headers
from .microversions import nova_writer as _writer


class ServerMetadata:
    """`/servers/{id}/metadata`: the server's key/value metadata."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def register(self, router: Router, v21: str) -> None:
        meta = v21 + "/servers/{id}/metadata"
        router.add("GET", meta, self.show_metadata)
        router.add("POST", meta, self.update_metadata)
        router.add("PUT", meta, self.replace_metadata)
        router.add("GET", meta + "/{key}", self.show_metadata_item)
        router.add("PUT", meta + "/{key}", self.set_metadata_item)
        router.add("DELETE", meta + "/{key}", self.delete_metadata_item)

    def _respond(self, req: Request, status: int, body: Any) -> Response:
        return Response(status, body, version_headers(microversion(req)))

    # -- server metadata (nova/api/openstack/compute/server_metadata.py)
    def show_metadata(self, req: Request) -> Response:
        server = self.cloud.nova.get_server(req.context, req.params["id"])
        return self._respond(req, 200, {"metadata": server["metadata"]})

    def _set_metadata(self, req: Request, *, replace: bool) -> Response:
        _writer(req, "server-metadata:update_all" if replace else "server-metadata:create")
        body = req.json()
        if not isinstance(body, dict) or "metadata" not in body:
            raise BadRequest("Malformed request body")
        _validate_metadata(body["metadata"])
        metadata = self.cloud.nova.set_server_metadata(req.context, req.params["id"],
                                                  body["metadata"], replace=replace)
        return self._respond(req, 200, {"metadata": metadata})

    def update_metadata(self, req: Request) -> Response:
        return self._set_metadata(req, replace=False)

    def replace_metadata(self, req: Request) -> Response:
        return self._set_metadata(req, replace=True)

    def show_metadata_item(self, req: Request) -> Response:
        metadata = self.cloud.nova.get_server(req.context, req.params["id"])["metadata"]
        key = req.params["key"]
        if key not in metadata:
            raise NotFound("Metadata item was not found")
        return self._respond(req, 200, {"meta": {key: metadata[key]}})

    def set_metadata_item(self, req: Request) -> Response:
        _writer(req, "server-metadata:update")
        body = req.json()
        meta = body.get("meta") if isinstance(body, dict) else None
        if not isinstance(meta, dict):
            raise BadRequest("Malformed request body")
        _validate_metadata(meta)
        if len(meta) > 1:
            raise BadRequest("Request body contains too many items")
        if req.params["key"] not in meta:
            raise BadRequest("Request body and URI mismatch")
        self.cloud.nova.set_server_metadata(req.context, req.params["id"], meta, replace=False)
        return self._respond(req, 200, {"meta": meta})

    def delete_metadata_item(self, req: Request) -> Response:
        version = microversion(req)
        _writer(req, "server-metadata:delete")
        self.cloud.nova.delete_server_metadata(req.context, req.params["id"], req.params["key"])
        return Response(204, None, version_headers(version))
