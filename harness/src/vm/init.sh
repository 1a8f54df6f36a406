#!/bin/busybox sh
# netspec's init, PID 1 of the VM's initramfs. It loads the modules that mounting the
# machine's root needs, mounts that root read-only over 9p with tmpfs overlays, the
# project writable, the kernel's modules on /lib/modules/$(uname -r), then chroots
# there and runs the command (the chroot matters: the kernel's own module loading runs
# /sbin/modprobe from the real root). It reports on the second serial port, which only
# netspec reads: "started", "exit N" or "error: ...". The command's stdout and stderr
# go to the third and the fourth; the first is the kernel's console.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
ctl=/dev/ttyS1
fail() {
    echo "error: $*" > $ctl
    poweroff -f
}
for m in $(cat /netspec/modules); do
    insmod "/netspec/$m" || fail "cannot load the module $m into this kernel"
done
share() { # TAG DIR ro|rw
    mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,$3" "$1" "$2" ||
        fail "cannot mount the 9p share $1 on $2: does this kernel have virtio_pci, 9pnet_virtio and 9p?"
}
mkdir -p /newroot /overlays
share root /newroot ro,cache=loose
mount -t tmpfs -o mode=0755 tmpfs /overlays
for d in etc usr var root home; do
    [ -d "/newroot/$d" ] || continue
    mkdir -p "/overlays/$d/upper" "/overlays/$d/work"
    mount -t overlay overlay -o "lowerdir=/newroot/$d,upperdir=/overlays/$d/upper,workdir=/overlays/$d/work" "/newroot/$d" ||
        fail "cannot lay an overlay over /$d: does this kernel have overlay?"
done
for d in tmp run; do mount -t tmpfs -o mode=1777 tmpfs "/newroot/$d"; done
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
[ -d /sys/fs/cgroup ] && mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup 2>/dev/null
# Each line of /netspec/shares: TAG ro|rw PATH (the PATH may hold spaces).
while read -r tag mode dir; do
    if [ "$tag" = modules ]; then
        dir="/usr/lib/modules/$(uname -r)"
    fi
    # A folder under /tmp, /run or an overlay is not in the guest's fresh tmpfs yet.
    [ -d "/newroot$dir" ] || mkdir -p "/newroot$dir" || fail "cannot make $dir in the guest"
    share "$tag" "/newroot$dir" "$mode"
done < /netspec/shares
mkdir -p /newroot/run/netspec-vm
cp /bin/busybox /netspec/command /newroot/run/netspec-vm/
cat > /newroot/run/netspec-vm/stage2 <<'EOF'
for t in /dev/ttyS2 /dev/ttyS3; do /run/netspec-vm/busybox stty -F $t raw -echo; done
echo started > /dev/ttyS1
/run/netspec-vm/busybox sh /run/netspec-vm/command < /dev/null > /dev/ttyS2 2> /dev/ttyS3
echo "exit $?" > /dev/ttyS1
/run/netspec-vm/busybox sync
/run/netspec-vm/busybox poweroff -f
EOF
exec chroot /newroot /run/netspec-vm/busybox sh /run/netspec-vm/stage2
