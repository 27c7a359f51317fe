"""Neutron's and Nova's exceptions as `ovnlab.errors` instances: the `type` is the
exception class name the REST layer reports, the message is the real one, word for word
(neutron_lib.exceptions, neutron_lib.exceptions.l3, neutron.ipam.exceptions, securitygroup)."""

from __future__ import annotations

from ovnlab.errors import BadRequest, Conflict, Forbidden, NotFound, OvnlabError


class ServiceUnavailable(OvnlabError):
    status = 503


def bad_request(resource: str, msg: str) -> BadRequest:
    return BadRequest(f"Bad {resource} request: {msg}.", type="BadRequest")


def invalid_input(msg: str) -> BadRequest:
    return BadRequest(f"Invalid input for operation: {msg}.", type="InvalidInput")


def invalid_attr(attr: str, reason: str) -> BadRequest:
    """The API layer's attribute validation (`webob.exc.HTTPBadRequest`)."""
    return BadRequest(f"Invalid input for {attr}. Reason: {reason}.", type="HTTPBadRequest")


def unrecognized(attrs: list[str]) -> BadRequest:
    return BadRequest(f"Unrecognized attribute(s) '{', '.join(attrs)}'", type="HTTPBadRequest")


def read_only(attr: str) -> BadRequest:
    return BadRequest(f"Cannot update read-only attribute {attr}", type="HTTPBadRequest")


def required(attr: str) -> BadRequest:
    return BadRequest(f"Failed to parse request. Required attribute '{attr}' not specified",
                      type="HTTPBadRequest")


def policy(*actions: str) -> Forbidden:
    rules = [f"rule:{a}" for a in actions]
    text = rules[0] if len(rules) == 1 else "(" + " and ".join(rules) + ")"
    return Forbidden(f"{text} is disallowed by policy", type="PolicyNotAuthorized")


def hidden() -> NotFound:
    """The API hides a resource the caller may not use (base.py network ownership check)."""
    return NotFound("The resource could not be found.", type="HTTPNotFound")


def not_found(kind: str, id: str) -> NotFound:
    messages = {
        "network": ("NetworkNotFound", f"Network {id} could not be found."),
        "subnet": ("SubnetNotFound", f"Subnet {id} could not be found."),
        "port": ("PortNotFound", f"Port {id} could not be found."),
        "router": ("RouterNotFound", f"Router {id} could not be found"),
        "floatingip": ("FloatingIPNotFound", f"Floating IP {id} could not be found"),
        "security_group": ("SecurityGroupNotFound", f"Security group {id} does not exist"),
        "security_group_rule": ("SecurityGroupRuleNotFound",
                                f"Security group rule {id} does not exist"),
        "server": ("InstanceNotFound", f"Instance {id} could not be found."),
    }
    type_, message = messages[kind]
    return NotFound(message, type=type_)


def in_use(type_: str, message: str) -> Conflict:
    return Conflict(message, type=type_)


def ip_already_allocated(ip: str, subnet_id: str) -> Conflict:
    return Conflict(f"IP address {ip} already allocated in subnet {subnet_id}",
                    type="IpAddressAlreadyAllocated")


def ip_generation_failure(net_id: str) -> Conflict:
    return Conflict(f"No more IP addresses available on network {net_id}.",
                    type="IpAddressGenerationFailure")


def invalid_ip_for_subnet(ip: str) -> BadRequest:
    return BadRequest(f"IP address {ip} is not a valid IP for the specified subnet.",
                      type="InvalidIpForSubnet")


def invalid_ip_for_network(ip: str) -> BadRequest:
    return BadRequest(
        f"IP address {ip} is not a valid IP for any of the subnets on the specified network.",
        type="InvalidIpForNetwork")
