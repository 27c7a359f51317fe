"""Glance v2: version discovery (required by the client) and read-only images."""

from __future__ import annotations

from typing import Any

from ovnlab.cloud.services import Images as Cloud
from ovnlab.errors import NotFound, OvnlabError

from .http import Request, Response, Router, json_response

VERSIONS = ("2.17", "2.16", "2.15", "2.9", "2.0")


def glance_error(e: OvnlabError) -> dict[str, Any]:
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
              405: "Method Not Allowed", 409: "Conflict"}
    return {"message": e.message, "code": f"{e.status} {titles.get(e.status, 'Error')}",
            "title": titles.get(e.status, "Error")}


def image_view(img: dict[str, Any]) -> dict[str, Any]:
    iid = str(img["id"])
    out: dict[str, Any] = {
        "id": iid, "name": img.get("name"), "status": "active", "visibility": "public",
        "protected": False, "os_hidden": False, "container_format": "bare",
        "disk_format": "qcow2", "min_disk": 0, "min_ram": 0, "size": None,
        "virtual_size": None, "checksum": None, "os_hash_algo": None, "os_hash_value": None,
        "owner": None, "tags": [], "created_at": None, "updated_at": None,
    }
    out.update(img)
    out["id"] = iid
    out["self"] = f"/v2/images/{iid}"
    out["file"] = f"/v2/images/{iid}/file"
    out["schema"] = "/v2/schemas/image"
    return out


def _in_filter(raw: str) -> set[str] | None:
    """Glance's `in:` operator: id=in:a,b (values may be quoted)."""
    if not raw.startswith("in:"):
        return None
    return {v.strip().strip('"') for v in raw[3:].split(",") if v.strip()}


class Glance:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def register(self, router: Router, prefix: str) -> None:
        router.add("GET", prefix, self.versions, auth=False)
        router.add("GET", prefix + "/", self.versions, auth=False)
        router.add("GET", prefix + "/versions", self.versions, auth=False)
        router.add("GET", prefix + "/v2/images", self.list_images)
        router.add("GET", prefix + "/v2/images/{id}", self.show_image)

    def versions(self, req: Request) -> Response:
        href = f"{req.base_url}/image/v2/"
        body = {"versions": [
            {"id": f"v{v}", "status": "CURRENT" if i == 0 else "SUPPORTED",
             "links": [{"rel": "self", "href": href}]} for i, v in enumerate(VERSIONS)]}
        return json_response(300 if not req.path.endswith("/versions") else 200, body)

    def _images(self, req: Request) -> list[dict[str, Any]]:
        return [image_view(i) for i in self.cloud.get_images(req.context)]

    def list_images(self, req: Request) -> Response:
        images = self._images(req)
        for key in ("name", "id", "status", "visibility", "owner"):
            raw = req.q1(key)
            if raw is None:
                continue
            wanted = _in_filter(raw) or {raw}
            images = [i for i in images if str(i.get(key)) in wanted]
        return json_response(200, {"images": images, "schema": "/v2/schemas/images",
                                   "first": "/v2/images"})

    def show_image(self, req: Request) -> Response:
        iid = req.params["id"]
        for img in self._images(req):
            if img["id"] == iid:
                return json_response(200, img)
        raise NotFound(f"No image found with ID {iid}")
