#!/bin/sh
# The guest side of ./run.sh: make the NVMe's SR-IOV VFs so they show, then the main job and
# the service's story (bind, passthrud, an allocation, a nested VM, release).
sh /testbed/guest-sriov.sh >/dev/null 2>&1
sh /testbed/main-job.sh passthru
exec sh /testbed/main-job-service.sh passthru
