#!/bin/bash
# A beakerlib test: one phase, one assertion.
. /usr/share/beakerlib/beakerlib.sh || exit 1
rlJournalStart
    rlPhaseStartTest "bash is there"
        rlRun "bash --version" 0 "bash runs"
    rlPhaseEnd
rlJournalEnd
