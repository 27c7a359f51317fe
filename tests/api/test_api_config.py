from __future__ import annotations

import yaml
from api_helpers import PROJECTS, Client

from ovnlab import api
from ovnlab.errors import NotFound
from ovnlab.topology import Project, User


def test_clouds_yaml_admin_and_demo() -> None:
    doc = yaml.safe_load(api.clouds_yaml("http://127.0.0.1:5555/", PROJECTS))
    admin = doc["clouds"]["ovnlab-admin"]
    assert admin["auth"] == {"auth_url": "http://127.0.0.1:5555/identity/v3",
                             "username": "admin", "password": "secret",
                             "project_name": "admin", "user_domain_name": "Default",
                             "project_domain_name": "Default"}
    assert admin["identity_api_version"] == 3 and admin["region_name"] == "RegionOne"
    assert doc["clouds"]["ovnlab-demo"]["auth"]["username"] == "demo"
    assert set(doc["clouds"]) == {"ovnlab-admin", "ovnlab-demo"}


def test_clouds_yaml_other_projects_get_their_own_cloud() -> None:
    projects = (Project("ops", (User("root", "pw", True),)),
                Project("alice", (User("alice", "a b", False),)),
                Project("bob", (User("bob", "b", False),)))
    doc = yaml.safe_load(api.clouds_yaml("http://h:1", projects))
    assert doc["clouds"]["ovnlab-admin"]["auth"]["project_name"] == "ops"
    assert doc["clouds"]["ovnlab-demo"]["auth"]["project_name"] == "alice"
    assert doc["clouds"]["ovnlab-bob"]["auth"]["username"] == "bob"


def test_env_lines() -> None:
    text = api.env_lines("http://127.0.0.1:5555", PROJECTS, "demo")
    lines = text.splitlines()
    assert text.endswith("\n")
    assert "export OS_AUTH_URL=http://127.0.0.1:5555/identity/v3" in lines
    assert "export OS_USERNAME=demo" in lines and "export OS_PROJECT_NAME=demo" in lines
    assert "export OS_USER_DOMAIN_NAME=Default" in lines
    assert "export OS_PASSWORD='a b'" in api.env_lines(
        "http://h:1", (Project("p", (User("u", "a b", True),)),), "p").splitlines()
    try:
        api.env_lines("http://h:1", PROJECTS, "nobody")
    except NotFound as e:
        assert "admin, demo" in e.message
    else:
        raise AssertionError("unknown project accepted")


def test_openapi_document_covers_every_route(client: Client, app: api.App) -> None:
    doc = client.get("/openapi.json", token=False).body
    assert doc["openapi"].startswith("3.")
    for route in app.router.routes:
        assert route.method.lower() in doc["paths"][route.template]
    create = doc["paths"]["/networking/v2.0/networks"]["post"]
    props = create["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "provider:segmentation_id" in props["network"]["properties"]
    assert doc["paths"]["/v3/auth/tokens"]["post"]["security"] == []
