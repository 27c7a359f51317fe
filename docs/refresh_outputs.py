"""Re-run the commands quoted in docs/distributed-floating-ips.md and paste their output.

    .venv/bin/python docs/refresh_outputs.py && git diff docs/distributed-floating-ips.md

Every `$ ovnlab exec NODE -- ...` / `$ ovnlab trace ...` line inside a code block is run,
in document order, on an in-process seed lab after the article's commands (so the lab's
state follows the text: pings before captures; section 5 turns distributed floating IPs
off). A trailing `| grep -E 'RE'` is applied. The `--detailed` excerpt block (after the
line mentioning "excerpts of") is rebuilt from a fresh trace. Run it after changes to
northd, the controller or the tools, and review the diff: prose around the blocks may
need updating too.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from ovnlab.lab import Lab
from ovnlab.scenario import run_article

DOC = Path(__file__).resolve().parent / "distributed-floating-ips.md"
EXCERPT = [  # (logical flow line to find, how many lines after it at most)
    (r"ls_in_l2_lkup priority 50: match=\(eth.dst == fa:16:3e:fd:78:08", 4),
    (r"lr_in_admission priority 50: match=\(eth.dst == fa:16:3e:fd:78:08", 4),
    (r"lr_in_dnat priority 100", 5),
    (r"lr_in_gw_redirect priority 100", 5),
]


def run(lab: Lab, command: str) -> list[str]:
    """One documented command's output lines."""
    kind, _, rest = command.removeprefix("ovnlab ").partition(" ")
    grep = None
    if " | grep -E " in rest:
        rest, pattern = rest.split(" | grep -E ", 1)
        grep = shlex.split(pattern)[0]
    if kind == "exec":
        node, _, tool = rest.partition(" -- ")
        out = lab.exec(node, tool).stdout
    elif kind == "trace":
        args = shlex.split(rest)
        mode = next((a[2:] for a in args[2:] if a.startswith("--")), "summary")
        out = lab.trace_text(args[0], args[1], "icmp", 0, mode)
    else:
        sys.exit(f"refresh_outputs: cannot run {command!r}")
    lines = out.rstrip("\n").split("\n") if out.strip() else []
    return [line for line in lines if re.search(grep, line)] if grep else lines


def excerpt(lab: Lab) -> list[str]:
    trace = lab.trace_text("exthost", "10.0.2.211", "icmp", 0, "detailed").split("\n")
    result: list[str] = []
    for pattern, most in EXCERPT:
        at = next((i for i, line in enumerate(trace) if re.search(pattern, line)), None)
        if at is None:
            sys.exit(f"refresh_outputs: {pattern!r} not in the detailed trace")
        end = at + 1
        while end < len(trace) and end <= at + most and not re.match(r"^\s+\d+\. ", trace[end]):
            end += 1
        result += (["..."] if result else []) + trace[at - 1:end]
    return result


def refresh(text: list[str]) -> list[str]:
    lab = Lab.build("seed")
    run_article(lab.openstack)
    out: list[str] = []
    i, in_block, want_excerpt = 0, False, False
    while i < len(text):
        line = text[i]
        if line.startswith("## 5."):
            lab.config_set("ovn.enable_distributed_floating_ip", "false")
            lab.fabric.run(3.0)  # the gateway chassis's GARPs
        if "excerpts of" in line:
            want_excerpt = True
        if line.startswith("```"):
            out.append(line)
            i += 1
            if not in_block and want_excerpt:  # replace the whole excerpt block
                while not text[i].startswith("```"):
                    i += 1
                out += excerpt(lab)
                want_excerpt = False
                continue
            in_block = not in_block
            continue
        if in_block and line.startswith("$ ovnlab "):
            out.append(line)
            out += run(lab, line[2:])
            i += 1
            while i < len(text) and not text[i].startswith(("$", "```")):
                i += 1  # the old output
            continue
        out.append(line)
        i += 1
    return out


if __name__ == "__main__":
    DOC.write_text("\n".join(refresh(DOC.read_text().split("\n"))))
