#!/bin/bash
# Runs a baseline script's `up` then `down` where it cannot touch the machine: in a
# fresh network namespace (the script's "host") and a private mount namespace with
# its own /run, so its `ip netns add` never writes to the machine's /run/netns.
# usage: isolated.sh SCRIPT
exec unshare --net --mount --propagation private bash -c '
	mount -t tmpfs tmpfs /run && ip link set lo up &&
	bash "$1" up >/dev/null && bash "$1" down >/dev/null' isolated "$1"
