"""eBPF Hub: publish, find, install and run eBPF programs as OCI artifacts."""

__version__ = "0.1.0"
