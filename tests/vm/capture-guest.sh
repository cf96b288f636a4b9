#!/bin/sh
# Guest job of update-captures.sh: the inventory setup (VFs, one on vfio-pci),
# then a capture of sysfs into $RESULTS/capture.
set -e
sh /testbed/guest-sriov.sh
sh /testbed/capture-sysfs.sh --modules "$RESULTS/capture"
