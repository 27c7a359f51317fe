"""Run OpenStack's Tempest against a fresh `ovnlab up`: the conformance check of issue 16.

    python tools/tempest/run.py [--suite network|compute|identity|all] [--regex RE]
                                [--tempest BIN] [--workdir DIR] [--known FILE] [--strict]

Starts a seed lab, creates the external network Tempest's `public_network_id` names, writes
tempest.conf (dynamic credentials: Tempest creates its projects and users through Keystone's
admin API), runs the suites serially, prints the counts per suite and stops the lab. With --strict it exits 1 when a test fails that tools/tempest/known-failures.txt does
not list (that file names each known failure and why); listed ones that now pass are named.
Everything goes through the lab's public interfaces: the `ovnlab` CLI and the REST API.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SUITES = {
    "network": r"^tempest\.api\.network\.",
    "compute": r"^tempest\.api\.compute\.(servers|floating_ips|security_groups|keypairs)\.",
    "identity": r"^tempest\.api\.identity\.v3\.",
}
PASSWORD = "secret"


@dataclass(frozen=True, slots=True)
class Counts:
    passed: list[str]
    failed: list[str]
    skipped: list[str]

    def line(self, suite: str) -> str:
        total = len(self.passed) + len(self.failed) + len(self.skipped)
        return (f"{suite}: {len(self.passed)} passed, {len(self.failed)} failed, "
                f"{len(self.skipped)} skipped of {total}")


class Api:
    """A small admin client for the lab's REST API (urllib: nothing beyond the stdlib)."""

    def __init__(self, auth_url: str) -> None:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "password": PASSWORD, "domain": {"name": "Default"}}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
        req = urllib.request.Request(f"{auth_url}/auth/tokens", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            self.token = resp.headers["X-Subject-Token"]
            catalog = json.load(resp)["token"]["catalog"]
        self.endpoints = {s["type"]: next(e["url"] for e in s["endpoints"]
                                          if e["interface"] == "public") for s in catalog}

    def call(self, method: str, service: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.endpoints[service].rstrip('/')}{path}", data,
                                     {"Content-Type": "application/json",
                                      "X-Auth-Token": self.token}, method=method)
        with urllib.request.urlopen(req) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None


def ovnlab(state: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "ovnlab.cli.main", "--state", str(state), *args]
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def prepare_cloud(api: Api) -> dict[str, str]:
    """What tempest.conf points at: the external network, the image, two flavors."""
    net = api.call("POST", "network", "/v2.0/networks", {"network": {
        "name": "public", "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": "extnet0"}})["network"]
    api.call("POST", "network", "/v2.0/subnets", {"subnet": {
        "name": "public-subnet", "network_id": net["id"], "cidr": "10.0.2.0/24",
        "ip_version": 4, "enable_dhcp": False, "gateway_ip": "10.0.2.2",
        "allocation_pools": [{"start": "10.0.2.110", "end": "10.0.2.250"}]}})
    images = api.call("GET", "image", "/v2/images")["images"]
    flavors = api.call("GET", "compute", "/flavors")["flavors"]
    exts = api.call("GET", "network", "/v2.0/extensions")["extensions"]
    return {"public_network_id": net["id"], "image": images[0]["id"],
            "flavor": flavors[0]["id"], "flavor_alt": flavors[min(1, len(flavors) - 1)]["id"],
            "extensions": ",".join(e["alias"] for e in exts)}


def tempest_conf(workdir: Path, auth_url: str, cloud: dict[str, str]) -> str:
    return f"""[DEFAULT]
log_dir = {workdir}/logs
log_file = tempest.log

[auth]
use_dynamic_credentials = True
admin_username = admin
admin_password = {PASSWORD}
admin_project_name = admin
admin_domain_name = Default
default_credentials_domain_name = Default
create_isolated_networks = True
tempest_roles = member

[identity]
uri_v3 = {auth_url}
auth_version = v3
region = RegionOne
v3_endpoint_type = public
disable_ssl_certificate_validation = True

[identity-feature-enabled]
api_v2 = False
# Keystone's extensions ovnlab has: none (no OS-EC2, OS-TRUST, OS-OAUTH1...)
api_extensions =
security_compliance = False
project_tags = False
application_credentials = False
access_rules = False
trusts = False

[network]
public_network_id = {cloud['public_network_id']}
floating_network_name = public
project_network_cidr = 10.100.0.0/16
project_network_mask_bits = 28
shared_physical_network = False

[network-feature-enabled]
api_extensions = {cloud['extensions']}
ipv6 = True
ipv6_subnet_attributes = False
port_security = True

[compute]
image_ref = {cloud['image']}
image_ref_alt = {cloud['image']}
flavor_ref = {cloud['flavor']}
flavor_ref_alt = {cloud['flavor_alt']}
min_compute_nodes = 2
build_timeout = 60
build_interval = 1

[compute-feature-enabled]
resize = False
pause = True
shelve = False
suspend = True
console_output = False
rescue = False
snapshot = False
live_migration = False
cold_migration = False
vnc_console = False
spice_console = False
serial_console = False
interface_attach = True
change_password = False
metadata_service = False
config_drive = False
personality = False
enable_instance_password = True

[validation]
run_validation = False

[service_available]
cinder = False
swift = False
glance = True
nova = True
neutron = True
"""


def run_suite(tempest: str, workdir: Path, regex: str) -> Counts:
    subprocess.run([tempest, "run", "--serial", "--regex", regex], cwd=workdir,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    stestr = str(Path(tempest).with_name("stestr"))
    out = subprocess.run([stestr, "last"], cwd=workdir, capture_output=True, text=True,
                         check=False).stdout
    return parse_results(out)


_RESULT = re.compile(r"^\{\d+\} (?:setUpClass \((?P<cls>[\w.]+)\)|(?P<test>[\w.]+))"
                     r".*?\.\.\. (?P<status>ok|FAILED|SKIPPED)")


def parse_results(text: str) -> Counts:
    """stestr's console lines: `{0} NAME[id-...] [0.01s] ... ok|FAILED|SKIPPED: why`;
    a class whose setUpClass failed or skipped counts once, by its class name."""
    passed, failed, skipped = [], [], []
    for line in text.splitlines():
        m = _RESULT.match(line)
        if m:
            name = m["cls"] or m["test"]
            {"ok": passed, "SKIPPED": skipped}.get(m["status"], failed).append(name)
    return Counts(sorted(passed), sorted(failed), sorted(skipped))


def known_failures(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {line.split("#")[0].strip() for line in path.read_text().splitlines()
            if line.split("#")[0].strip()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", choices=[*SUITES, "all"], default="all")
    p.add_argument("--regex", help="run the tests this regex selects instead of the suites "
                   "(e.g. one class while fixing it)")
    p.add_argument("--tempest", default=shutil.which("tempest") or
                   str(Path(sys.executable).with_name("tempest")))
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--known", type=Path, default=HERE / "known-failures.txt")
    p.add_argument("--strict", action="store_true")
    args = p.parse_args(argv)
    if not Path(args.tempest).exists():
        print(f"tempest not found at {args.tempest}: pip install tempest", file=sys.stderr)
        return 2
    args.tempest = str(Path(args.tempest).resolve())  # tempest runs in its workspace
    tmp = Path(tempfile.mkdtemp(prefix="ovnlab-tempest-"))
    workdir = args.workdir or tmp / "workspace"
    state = tmp / "lab"
    ovnlab(state, "up", "--topology", "seed")
    try:
        env = dict(re.findall(r"export (\w+)=(\S+)", ovnlab(state, "env")))
        auth_url = env["OS_AUTH_URL"].strip("'").rstrip("/")
        if not auth_url.endswith("/v3"):
            auth_url += "/v3"
        cloud = prepare_cloud(Api(auth_url))
        if not (workdir / "etc").exists():
            # its own workspace registry: nothing is written to ~/.tempest
            subprocess.run([args.tempest, "init", "--name", f"ovnlab-{os.getpid()}",
                            "--workspace-path", str(tmp / "workspace.yaml"), str(workdir)],
                           check=True, capture_output=True)
        (workdir / "etc" / "tempest.conf").write_text(tempest_conf(workdir, auth_url, cloud))
        suites = list(SUITES) if args.suite == "all" else [args.suite]
        regexes = {"regex": args.regex} if args.regex else {s: SUITES[s] for s in suites}
        failed: list[str] = []
        passed: list[str] = []
        for suite, regex in regexes.items():
            counts = run_suite(args.tempest, workdir, regex)
            print(counts.line(suite), flush=True)
            failed += counts.failed
            passed += counts.passed
            for name in counts.failed:
                print(f"  FAILED {name}")
    finally:
        ovnlab(state, "destroy")
        if args.workdir:  # the lab's and the registry's temporary directory
            shutil.rmtree(tmp, ignore_errors=True)
    known = known_failures(args.known)
    new = sorted(set(failed) - known)
    for name in sorted(known & set(passed)):
        print(f"  now passes, drop it from {args.known.name}: {name}")
    if args.strict and new:
        print(f"{len(new)} failures not in {args.known.name}", file=sys.stderr)
        return 1
    print(f"workspace (tempest.log, tempest.conf): {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
