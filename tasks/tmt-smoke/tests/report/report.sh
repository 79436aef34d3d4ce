#!/bin/bash
# Reports two results of its own, as Beaker/restraint tests do.
set -eo pipefail
tmt-report-result report/first PASS
tmt-report-result report/second WARN
