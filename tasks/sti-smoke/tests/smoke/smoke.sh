#!/bin/sh
# Writes a file the test keeps (save-files) and passes.
echo "smoke output" > smoke.out
echo "smoke passed"
