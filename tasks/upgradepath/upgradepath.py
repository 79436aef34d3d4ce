"""The upgrade path check for the builds of one Bodhi update.

Koji is asked over XML-RPC (the hub the run uses, from $TASKOTRON_KOJI_URL),
with one multicall for all tags; versions are compared by rpm itself, through
its Lua `rpm.vercmp`, in one `rpm --eval` for all pairs.
"""

import os
import re
import subprocess
import xmlrpc.client

RELEASES_AHEAD = 2


def nevr(path):
    out = subprocess.run(["rpm", "-qp", "--qf", "%{NAME}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}", path],
                         capture_output=True, text=True, check=True).stdout
    name, epoch, version, release = out.split("\t")
    return name, epoch, version, release


def vercmp(pairs):
    """rpm.vercmp of each (evr_a, evr_b): -1, 0 or 1."""
    if not pairs:
        return []
    lua = "".join(f'print(rpm.vercmp("{a}", "{b}") .. " ")' for a, b in pairs)
    out = subprocess.run(["rpm", "--eval", "%{lua:" + lua + "}"], capture_output=True, text=True,
                         check=True).stdout
    return [int(x) for x in out.split()]


def latest(koji, queries):
    """The latest NVR of (tag, package) for each query; None when there is none."""
    multi = xmlrpc.client.MultiCall(koji)
    for tag, package in queries:
        multi.getLatestBuilds(tag, {"package": package, "__starstar": True})
    out = []
    for answer in _each(multi()):
        if isinstance(answer, Exception) or not answer:
            out.append(None)
        else:
            b = answer[0]
            out.append((str(b.get("epoch") or 0), b["version"], b["release"], b["nvr"]))
    return out


def _each(results):
    i = 0
    while True:
        try:
            yield results[i]
        except IndexError:
            return
        except xmlrpc.client.Fault as fault:
            yield fault
        i += 1


def run(bodhi_update, downloaded, artifactsdir):
    koji = xmlrpc.client.ServerProxy(os.environ["TASKOTRON_KOJI_URL"], allow_none=True,
                                     use_builtin_types=True)
    builds = [nevr(p) for p in sorted(downloaded["downloaded_rpms"])]
    queries, plans = [], []
    for name, epoch, version, release in builds:
        m = re.search(r"\.fc(\d+)", release)
        if not m:
            plans.append((name, epoch, version, release, []))
            continue
        n = int(m.group(1))
        tags = [(f"f{n}-updates", "same"), (f"f{n}", "same")]
        tags += [(t, "later") for k in range(1, RELEASES_AHEAD + 1)
                 for t in (f"f{n + k}-updates", f"f{n + k}")]
        plans.append((name, epoch, version, release, tags))
        queries += [(t, name) for t, _ in tags]
    answers = iter(latest(koji, queries))
    checks = []
    for name, epoch, version, release, tags in plans:
        ours = f"{epoch}:{version}-{release}"
        for tag, kind in tags:
            other = next(answers)
            if other is not None:
                checks.append((name, version, release, ours, tag, kind, other))
    results = iter(vercmp([(c[3], f"{c[6][0]}:{c[6][1]}-{c[6][2]}") for c in checks]))
    lines, failed = [], []
    seen_same, seen_later = set(), set()
    for name, version, release, ours, tag, kind, other in checks:
        cmp = next(results)
        nvr = f"{name}-{version}-{release}"
        if kind == "same":
            if (name, "same") in seen_same:
                continue
            seen_same.add((name, "same"))
            if cmp <= 0 and other[3] != nvr:
                failed.append(nvr)
                lines.append(f"[FAIL] {nvr} is not newer than {other[3]} in {tag}")
            else:
                lines.append(f"[ OK ] {nvr} is newer than {other[3]} in {tag}")
        elif (name, other[3]) in seen_later:
            # fN-updates inherits fN: the same build found twice is checked once.
            continue
        elif cmp > 0:
            seen_later.add((name, other[3]))
            failed.append(nvr)
            lines.append(f"[FAIL] {nvr} is newer than {other[3]} in {tag}: upgrading to that release would downgrade it")
        else:
            seen_later.add((name, other[3]))
            lines.append(f"[ OK ] {other[3]} in {tag} is not older")
    outcome = "FAILED" if failed else "PASSED"
    lines.append(f"RESULT: {outcome}")
    with open(os.path.join(artifactsdir, "upgradepath.log"), "w") as log:
        log.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    note = f"{len(set(failed))} builds break the upgrade path" if failed else f"{len(builds)} builds keep the upgrade path"
    return ("results:\n"
            f"  - item: {bodhi_update}\n    type: bodhi_update\n    outcome: {outcome}\n"
            f"    note: {note}\n    artifact: upgradepath.log\n")
