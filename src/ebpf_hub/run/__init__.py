"""Run a package on this host: `ebpf-hub run` and `ebpf-hub doctor`.

One job per module, in the order a run goes through them:

- target: what to run (an installed NAME[@VERSION], an object, a directory) as config + objects
- params: `--param NAME=VALUE` and `-- --NAME VALUE`, typed from the objects' BTF
- host, probes, preflight: what the host has, what the package needs, refused before loading
- permissions: what the package will do, shown before it runs
- libbpf, loader (with attach, programs, maps, events): load, attach, read, detach
- eventfmt, mapview, histogram: events as JSON lines or columns, output maps on an interval
- session: the run itself, from the checks to the last detach
- smoke: `ebpf-hub build --load-test`: every built object loaded once, then unloaded
"""
