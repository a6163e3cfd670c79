import os, sys, time, glob
pid = sys.argv[1]; out = open(sys.argv[2], 'w')
prev = {}
t0 = time.time()
while os.path.exists(f'/proc/{pid}'):
    now = time.time() - t0
    for d in glob.glob(f'/proc/{pid}/task/*'):
        tid = d.rsplit('/',1)[1]
        try:
            st = open(d + '/stat').read()
            name = st[st.index('(')+1:st.rindex(')')]
            f = st[st.rindex(')')+2:].split()
            ut, stt, cpu = int(f[11]), int(f[12]), int(f[36])
            status = open(d + '/status').read()
            nv = int([l for l in status.splitlines() if l.startswith('nonvoluntary_ctxt_switches')][0].split()[1])
            v = int([l for l in status.splitlines() if l.startswith('voluntary_ctxt_switches')][0].split()[1])
        except Exception:
            continue
        p = prev.get(tid)
        if p:
            dt = ut + stt - p[0]
            if dt > 0 or nv - p[1] > 0:
                out.write(f'{now:.2f} {tid} {name} ticks={dt} cpu={cpu} nvcsw={nv-p[1]} vcsw={v-p[2]}\n')
        prev[tid] = (ut + stt, nv, v)
    time.sleep(0.1)
