"""Building a package: compile its eBPF C into CO-RE objects, check them against the metadata,
and describe them for the artifact."""
