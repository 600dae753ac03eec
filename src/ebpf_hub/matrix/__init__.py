"""The kernel matrix: load and attach a package's programs on other kernels than the host's.

Each kernel of the hub's matrix (index/hub.yaml) is a Debian kernel booted in qemu with a
minimal guest (`guest`): an initramfs holding busybox, a static loader over libbpf and the
objects under test. One boot per kernel serves every object of a run; the loader's framed
lines on the serial console (`frames`) become a typed result per program (`results`).
"""
