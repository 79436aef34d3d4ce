#!/bin/sh
# A test that fails, as one sometimes does.
echo "expected 2, got 3" >&2
exit 1
