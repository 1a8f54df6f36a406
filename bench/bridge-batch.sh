#!/bin/bash
# The seed's bridge.sh topology, hand-tuned: one `ip -batch` per namespace, each veth
# peer created directly in its namespace, no debug output. Run inside a private
# network and mount namespace (see isolated.sh), like the other baselines.
set -e
case "$1" in
up)
	ip netns add net1
	ip netns add net2
	echo 1 > /proc/sys/net/ipv4/ip_forward
	ip -batch - <<'B'
link set lo up
link add br00 type bridge
link add veth1 type veth peer name vethpeer1 netns net1
link add veth2 type veth peer name vethpeer2 netns net2
link set veth1 master br00
link set veth2 master br00
addr add 10.100.0.1/16 dev br00
link set br00 up
link set veth1 up
link set veth2 up
B
	for n in 1 2; do
		ip -n net$n -batch - <<B
link set lo up
link set vethpeer$n up
addr add 10.100.0.${n}0/16 dev vethpeer$n
route add default via 10.100.0.1
B
	done
	;;
down)
	ip netns delete net1
	ip netns delete net2
	ip link delete br00
	;;
esac
