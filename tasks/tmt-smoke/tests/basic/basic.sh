#!/bin/bash
# Passes where bash, coreutils and the test's own data directory are there.
set -eo pipefail
echo "running as $TMT_TEST_NAME in $PWD"
test -d "$TMT_TEST_DATA"
uname -m
