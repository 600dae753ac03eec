"""The `ebpf-hub` subcommands, one module per group; each module has `register(commands)`."""
