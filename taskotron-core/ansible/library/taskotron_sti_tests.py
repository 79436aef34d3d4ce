#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Runs the tests of standard-test-basic (taskotron's own role, written to the
documented STI contract) and writes what STI says a suite writes.

Each test is a name (a directory holding `runtest.sh`) or `{name: {dir, run,
save-files, timeout}}` (`run` under `bash -c` in `dir`, relative to the
playbook's directory; exit code 0 is `pass`, any other `fail`, one that could
not start or ran past `timeout` seconds `error`). Its output goes to
`<artifacts>/<name>.log`, a `PASS|FAIL|ERROR <name>` line to
`<artifacts>/test.log`, and every result so far to `<artifacts>/results.yml`,
rewritten after each test so that a suite killed half-way keeps what it ran.
The module fails only when the tests could not be run at all: a failing test is
a result, not an error of the playbook (STI).
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

# Fedora's /bin/sh is bash, which the tests were written for.
SHELL = '/bin/bash' if os.path.exists('/bin/bash') else '/bin/sh'


def normalise(tests):
    """(name, dir, run, save_files, timeout) for each entry of `tests`."""
    out = []
    for entry in tests or []:
        if isinstance(entry, str):
            out.append((entry, entry, './runtest.sh', [], 0))
            continue
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ValueError('a test is a name or a mapping of one name to '
                             '{dir, run, save-files}: %r' % (entry,))
        name, spec = next(iter(entry.items()))
        spec = spec or {}
        if not isinstance(spec, dict):
            raise ValueError('test %s: expected {dir, run, save-files}, got %r'
                             % (name, spec))
        unknown = sorted(set(spec) - {'dir', 'run', 'save-files', 'timeout'})
        if unknown:
            raise ValueError('test %s: unknown keys %s (expected dir, run, '
                             'save-files, timeout)' % (name, ', '.join(unknown)))
        saves = spec.get('save-files') or []
        if isinstance(saves, str):
            saves = [saves]
        out.append((str(name), str(spec.get('dir', '.')),
                    str(spec.get('run', './runtest.sh')), [str(s) for s in saves],
                    int(spec.get('timeout') or 0)))
    return out


def safe_name(name):
    """A file name for test `name`'s log."""
    kept = ''.join(c if c.isalnum() or c in '-_.' else '_' for c in name)
    return kept.lstrip('.') or 'test'


def write_results(artifacts, results):
    # JSON strings are YAML scalars: no YAML library is needed to write it.
    lines = ['results:']
    for r in results:
        lines.append('- {result: %s, test: %s, logs: [%s]}' % (
            r['result'], json.dumps(r['test']),
            ', '.join(json.dumps(l) for l in r['logs'])))
    path = os.path.join(artifacts, 'results.yml')
    with open(path + '.new', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    os.rename(path + '.new', path)


def run_one(name, cwd, run, log_path, timeout):
    """The test's result and, for `error`, why."""
    if not os.path.isdir(cwd):
        return 'error', 'its directory %s does not exist' % cwd
    with open(log_path, 'wb') as log:
        try:
            proc = subprocess.Popen([SHELL, '-c', run], cwd=cwd, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        except OSError as e:
            return 'error', 'cannot start it: %s' % e
        try:
            code = proc.wait(timeout=timeout or None)
        except subprocess.TimeoutExpired:
            # The whole process group: a test's children go with it.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
            log.write(b'\ntaskotron: killed after %d s (timeout)\n' % timeout)
            return 'error', 'ran past its timeout of %d s' % timeout
    return ('pass' if code == 0 else 'fail'), None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            tests=dict(type='raw', required=True),
            artifacts=dict(type='path', required=True),
            base=dict(type='path', required=True),
        ),
    )
    p = module.params
    try:
        tests = normalise(p['tests'])
    except (ValueError, TypeError) as e:
        module.fail_json(msg=str(e))
    artifacts = p['artifacts']
    os.makedirs(artifacts, exist_ok=True)
    results = []
    summary = open(os.path.join(artifacts, 'test.log'), 'a')
    for name, directory, run, saves, timeout in tests:
        cwd = os.path.join(p['base'], directory)
        log_name = safe_name(name) + '.log'
        start = time.time()
        log_path = os.path.join(artifacts, log_name)
        result, why = run_one(name, cwd, run, log_path, timeout)
        if why:
            with open(log_path, 'a') as log:
                log.write('taskotron: %s: %s\n' % (result, why))
        logs = [log_name]
        for pattern in saves:
            for found in sorted(glob.glob(os.path.join(cwd, pattern))):
                if os.path.isfile(found):
                    shutil.copy(found, artifacts)
                    logs.append(os.path.basename(found))
        summary.write('%s %s\n' % (result.upper(), name))
        summary.flush()
        entry = {'result': result, 'test': name, 'logs': logs,
                 'duration': round(time.time() - start, 3)}
        if why:
            entry['why'] = why
        results.append(entry)
        write_results(artifacts, results)
    summary.close()
    if not tests:
        write_results(artifacts, results)
    module.exit_json(changed=True, results=results,
                     failed_tests=[r['test'] for r in results if r['result'] != 'pass'])


if __name__ == '__main__':
    main()
