#!/usr/bin/env python3
# A/B of the seed: two netspec builds alternately, 40 runs each, 100 ms apart.
# NETSPEC_OLD names the other build (e.g. a release build of an older commit).
import subprocess,time,os,statistics,resource
bins={'old':os.environ.get('NETSPEC_OLD','/tmp/oldtarget/release/netspec'),'new':'target/release/netspec'}
res={k:[] for k in bins}; rss={k:[] for k in bins}
for i in range(40):
    for k,b in bins.items():
        time.sleep(0.1)
        t=time.perf_counter()
        p=subprocess.Popen([b,'run','scenarios/seed/bridge-sh.yaml'],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
        _,st,ru=os.wait4(p.pid,0)
        res[k].append((time.perf_counter()-t)*1000); rss[k].append(ru.ru_maxrss)
        assert st==0,(k,st)
for k in bins:
    v=sorted(res[k]); print(f"{k}: min {v[0]:.1f} median {statistics.median(v):.1f} p90 {v[int(len(v)*0.9)]:.1f} ms, rss {max(rss[k])} KiB")
