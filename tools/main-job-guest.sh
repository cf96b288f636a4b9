#!/bin/sh
# The guest side of ./run.sh: make the NVMe's SR-IOV VFs so they show, then the main job.
sh /testbed/guest-sriov.sh >/dev/null 2>&1
exec sh /testbed/main-job.sh passthru
