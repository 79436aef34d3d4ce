"""Python packaging checks on the RPMs of one Koji build.

Each check gives a result `dist.python-versions.<check>`; the overall result
`dist.python-versions` is FAILED when any of them is. RPM metadata is read with
`rpm -qp`, file contents with `rpm2cpio | cpio`, so what is checked is what the
real tools see.
"""

import os
import re
import subprocess
import tempfile

CHECKNAME = "dist.python-versions"
PY2 = re.compile(r"^(python\(abi\) = 2\.|python2\b|/usr/bin/python2\b|libpython2)")
PY3 = re.compile(r"^(python\(abi\) = 3\.|python3\b|/usr/bin/python3\b|libpython3)")
UNVERSIONED = re.compile(r"^(python\b(?!\d|\(abi\))|/usr/bin/python$)")


def rpm_query(path, *args):
    out = subprocess.run(["rpm", "-qp", *args, path], capture_output=True, text=True, check=True)
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def shebangs(path):
    """Files of the RPM whose first line is an unversioned python shebang."""
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        with open(path, "rb") as rpm:
            # Debian's rpm2cpio 4.18 can exit 1 after writing a whole archive; what
            # counts is that cpio reads it.
            payload = subprocess.run(["rpm2cpio"], stdin=rpm, capture_output=True, check=False).stdout
        if not payload:
            raise SystemExit(f"rpm2cpio gave nothing for {path}")
        subprocess.run(["cpio", "-idm", "--quiet", "--no-absolute-filenames"],
                       input=payload, cwd=tmp, check=True)
        for root, _, files in os.walk(tmp):
            for f in files:
                full = os.path.join(root, f)
                try:
                    with open(full, "rb") as fh:
                        first = fh.readline(200)
                except OSError:
                    continue
                if re.match(rb"^#!\s*(/usr/bin/env\s+python|/usr/bin/python)\s*$", first.strip()):
                    bad.append("/" + os.path.relpath(full, tmp))
    return sorted(bad)


def run(workdir, koji_build, downloaded, artifactsdir):
    rpms = sorted(p for p in downloaded["downloaded_rpms"] if not p.endswith(".src.rpm"))
    checks = {name: [] for name in ("two_three", "naming_scheme", "requires_naming_scheme",
                                    "unversioned_shebangs", "python_usage")}
    arches = set()
    for path in rpms:
        name = rpm_query(path, "--qf", "%{NAME}")[0]
        arches.add(rpm_query(path, "--qf", "%{ARCH}")[0])
        requires = rpm_query(path, "--requires")
        two = [r for r in requires if PY2.match(r)]
        three = [r for r in requires if PY3.match(r)]
        if two and three:
            checks["two_three"].append(f"{name} requires both Python 2 ({two[0]}) and Python 3 ({three[0]})")
        if three and name.startswith("python-"):
            checks["naming_scheme"].append(f"{name} is a Python 3 package not named python3-*")
        for r in requires:
            if UNVERSIONED.match(r):
                checks["requires_naming_scheme"].append(f"{name} requires unversioned `{r}`")
        for f in shebangs(path):
            checks["unversioned_shebangs"].append(f"{name}: {f} has an unversioned python shebang")
    for log in downloaded.get("downloaded_logs", []):
        with open(log, errors="replace") as fh:
            if re.search(r"/usr/bin/python(\s|$)", fh.read(), re.M):
                checks["python_usage"].append(f"{os.path.basename(log)} shows /usr/bin/python used")
    lines = []
    results = []
    for check, problems in checks.items():
        outcome = "FAILED" if problems else "PASSED"
        results.append((f"{CHECKNAME}.{check}", outcome, f"{len(problems)} problems" if problems else "ok"))
        lines.append(f"[{'FAIL' if problems else ' OK '}] {check}")
        lines += [f"       {p}" for p in problems]
    overall = "FAILED" if any(r[1] == "FAILED" for r in results) else "PASSED"
    results.append((CHECKNAME, overall, f"{sum(r[1] == 'FAILED' for r in results)} checks failed"))
    with open(os.path.join(artifactsdir, "output.log"), "w") as out:
        out.write("\n".join(lines) + "\n")
        if overall == "FAILED":
            out.write("\nRead the Python packaging guidelines; if you think a result is wrong,\n"
                      "file a bug against the task.\n")
    print("\n".join(lines))
    text = "results:\n"
    for checkname, outcome, note in results:
        text += (f"  - item: {koji_build}\n    type: koji_build\n    checkname: {checkname}\n"
                 f"    outcome: {outcome}\n    note: {note}\n    artifact: output.log\n"
                 f"    arch: [{', '.join(sorted(arches))}]\n")
    return text
