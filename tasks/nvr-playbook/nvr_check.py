"""Naming checks for one Koji build, written as ResultYAML where a Taskotron
playbook task writes its results: <artifacts>/taskotron/results.yml."""

import os
import re
import sys

DIST_TAG = re.compile(r"\.(fc|el|eln|module_f)\d+")


def main(nvr, artifacts, testcase):
    parts = nvr.rsplit("-", 2)
    problems = []
    if len(parts) != 3:
        problems.append(f"{nvr!r} is no name-version-release")
        parts = [nvr, "", ""]
    name, version, release = parts
    if release and not DIST_TAG.search(release):
        problems.append(f"release {release!r} has no dist tag such as .fc41")
    if version and not re.match(r"^[0-9]", version):
        problems.append(f"version {version!r} does not start with a digit")
    outcome = "FAILED" if problems else "PASSED"
    note = f"{len(problems)} problems" if problems else "naming rules followed"
    with open(os.path.join(artifacts, "nvr-check.log"), "w") as log:
        log.write(f"{nvr}: {outcome}\n")
        for p in problems:
            log.write(f"  - {p}\n")
    with open(os.path.join(artifacts, "taskotron", "results.yml"), "w") as out:
        out.write(
            "results:\n"
            f"  - item: {nvr!r}\n"
            "    type: koji_build\n"
            f"    checkname: {testcase}\n"
            f"    outcome: {outcome}\n"
            f"    note: {note}\n"
            "    artifact: nvr-check.log\n"
        )


if __name__ == "__main__":
    main(*sys.argv[1:4])
