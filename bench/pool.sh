#!/bin/sh
# Can a pool of namespaces, reset between scenarios, beat fresh ones? The kernel's side
# of it, with the seed's links (a bridge and three veth pairs), as root:
#   sh bench/pool.sh [ROUNDS]
# Every round runs in a namespace made for it by `unshare -n`; nothing on the machine
# changes. Needs iproute2.
set -eu
N=${1:-100}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/add" <<'B'
link add br0 group 7 type bridge
link add v1 group 7 type veth peer name p1 group 7
link add v2 group 7 type veth peer name p2 group 7
link add v3 group 7 type veth peer name p3 group 7
link set v1 master br0
link set v2 master br0
link set v3 master br0
addr add 10.0.0.1/24 dev br0
link set br0 up
link set v1 up
link set v2 up
link set v3 up
B
printf 'link del v1\nlink del v2\nlink del v3\nlink del br0\n' > "$dir/del"
printf 'link del group 7\n' > "$dir/delgroup"
per_round() { echo "scale=1; ($2 - $1) * 1000 / $N" | bc; }
s=$(date +%s.%N)
for _ in $(seq "$N"); do unshare -n ip -batch "$dir/add"; done
e=$(date +%s.%N)
echo "fresh namespace per round (the kernel frees it behind):  $(per_round "$s" "$e") ms"
s=$(date +%s.%N)
unshare -n sh -c "for _ in \$(seq $N); do ip -batch $dir/add; ip -batch $dir/delgroup; done"
e=$(date +%s.%N)
echo "one namespace, links removed as one group (ip link del group): $(per_round "$s" "$e") ms"
s=$(date +%s.%N)
unshare -n sh -c "for _ in \$(seq $N); do ip -batch $dir/add; ip -batch $dir/del; done"
e=$(date +%s.%N)
echo "one namespace, links removed one by one: $(per_round "$s" "$e") ms"
