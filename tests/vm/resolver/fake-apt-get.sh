#!/bin/sh
# An apt-get whose every download fails (an archive that lost the file), for the fall-back test.
echo "E: fake-apt-get: cannot download $*" >&2
exit 100
