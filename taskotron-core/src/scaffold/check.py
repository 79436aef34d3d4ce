"""The check for task @NAME@: called by the formula's `python` action."""

import os


def run(koji_build, artifactsdir):
    """Check one Koji build; return the results as ResultYAML text."""
    name, version, release = koji_build.rsplit("-", 2)
    outcome = "PASSED" if version and release else "FAILED"
    # Anything printed goes to the action's log, not into the return value.
    print(f"{name} {version} {release}: {outcome}")
    with open(os.path.join(artifactsdir, "output.log"), "w") as log:
        log.write(f"{koji_build}: {outcome}\n")
    return (
        "results:\n"
        f"  - item: {koji_build}\n"
        "    type: koji_build\n"
        f"    outcome: {outcome}\n"
        "    artifact: output.log\n"
    )
