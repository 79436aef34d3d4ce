#!/usr/bin/perl
# A test a suite would hold, printing TAP (Perl's Test::More).
use strict;
use warnings;
use Test::More tests => 3;
ok(1 + 1 == 2, 'arithmetic');
like('htop-3.3.0-1.fc41', qr/\.fc\d+$/, 'a dist tag');
is(lc('ABC'), 'abc', 'lower case');
