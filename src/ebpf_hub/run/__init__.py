"""Run a package: the libbpf binding and the loader that attaches, reads and detaches."""
