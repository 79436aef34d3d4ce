#!/bin/sh
# The subjects (the build's RPMs) are the suite's to test.
echo "subjects: $TEST_SUBJECTS"
for s in $TEST_SUBJECTS; do
    [ -f "$s" ] || { echo "no subject $s"; exit 1; }
done
[ -n "$TEST_SUBJECTS" ]
