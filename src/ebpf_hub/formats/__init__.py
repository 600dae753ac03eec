"""Declared output formats of event fields and output maps: the named value sets (generated
data) and the resolution of a package's declarations in its event struct and map types. Shared
by `build` (which checks them) and `run` (which prints with them).

- sets: syscall tables, flag and enum sets per architecture, errno and signal names
- plan: `output.fields`/`unions`/`columns` checked against and resolved in an event layout
- mapplan: an output map's `fields` checked against and resolved in its key and value layouts
"""
