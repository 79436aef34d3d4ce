"""Naming checks for one Koji build, returned as ResultYAML text."""

import os
import re

DIST_TAG = re.compile(r"\.(fc|el|eln|module_f)\d+")


def run(nvr, artifactsdir):
    """Check `nvr`; write a log into `artifactsdir`; return ResultYAML."""
    name, version, release = nvr.rsplit("-", 2)
    problems = []
    if not DIST_TAG.search(release):
        problems.append(f"release {release!r} has no dist tag such as .fc41")
    if name.startswith("lib") and name != name.lower():
        problems.append(f"library package name {name!r} has upper-case letters")
    if not re.match(r"^[0-9]", version):
        problems.append(f"version {version!r} does not start with a digit")
    outcome = "FAILED" if problems else "PASSED"
    note = f"{len(problems)} problems" if problems else "naming rules followed"
    with open(os.path.join(artifactsdir, "nvr-check.log"), "w") as log:
        log.write(f"{nvr}: {outcome}\n")
        for p in problems:
            log.write(f"  - {p}\n")
    print(f"{nvr}: {outcome} ({note})")
    return (
        "results:\n"
        f"  - item: {nvr}\n"
        "    type: koji_build\n"
        "    checkname: scratch.nvr-check\n"
        f"    outcome: {outcome}\n"
        f"    note: {note}\n"
        "    artifact: nvr-check.log\n"
    )
