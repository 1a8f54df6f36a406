#!/usr/bin/env python3
# How long closing an AF_PACKET socket takes here: packet_release() waits for an RCU
# grace period (synchronize_net), which is what observing frames costs a whole
# process. As root: python3 bench/packet_close.py. Binds to `lo` of a namespace of its
# own (unshare), so nothing on the machine is touched.
import ctypes, socket, statistics, threading, time

CLONE_NEWNET = 0x40000000
if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
    raise SystemExit(f"unshare: errno {ctypes.get_errno()} (run as root)")

def opened():
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind(("lo", 0))
    return s

def one():
    s = opened()
    t = time.perf_counter()
    s.close()
    return (time.perf_counter() - t) * 1000

def parallel(n):
    socks = [opened() for _ in range(n)]
    t = time.perf_counter()
    threads = [threading.Thread(target=s.close) for s in socks]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return (time.perf_counter() - t) * 1000

r = [one() for _ in range(20)]
print(f"one close: median {statistics.median(r):.1f} ms (min {min(r):.1f}, max {max(r):.1f}), 20 runs")
r = [parallel(5) for _ in range(10)]
print(f"5 closes on 5 threads: median {statistics.median(r):.1f} ms, 10 runs")
