"""Runs rpmlint on the downloaded RPMs of one build and one arch.

rpmlint prints one line per problem (`file: E: id details` or `W:`) and a
summary; it exits 64 when it found errors and 66 when the badness threshold was
exceeded, which are results here, not crashes.
"""

import os
import re
import subprocess

SUMMARY = re.compile(r"(\d+) errors?, (\d+) warnings?")


def run(koji_build, arch, downloaded, distgit_files, artifactsdir):
    rpms = sorted(downloaded["downloaded_rpms"])
    if not rpms:
        raise SystemExit(f"no RPMs of {koji_build} were downloaded for {arch}")
    here = os.path.dirname(os.path.abspath(__file__))
    cmd = ["rpmlint", "--config", os.path.join(here, "rpmlint.toml")]
    rcs = [f for f in distgit_files.get("downloaded_files", []) if f.endswith("rpmlintrc")]
    for rc in rcs:
        cmd += ["--rpmlintrc", rc, "--ignore-unused-rpmlintrc"]
    cmd += rpms
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 64, 66):
        raise SystemExit(f"rpmlint crashed (exit {proc.returncode}):\n{proc.stderr}")
    # Paths differ from run to run; the log names files only.
    output = proc.stdout.replace(os.path.dirname(rpms[0]) + "/", "")
    with open(os.path.join(artifactsdir, "rpmlint.log"), "w") as log:
        log.write(output)
    match = SUMMARY.search(output)
    errors, warnings = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    outcome = "FAILED" if errors else "PASSED"
    print(f"{koji_build} on {arch}: {errors} errors, {warnings} warnings")
    return (
        "results:\n"
        f"  - item: {koji_build}\n"
        "    type: koji_build\n"
        f"    outcome: {outcome}\n"
        f"    note: {errors} errors, {warnings} warnings\n"
        "    artifact: rpmlint.log\n"
        "    arch: " + arch + "\n"
    )
