"""The `ebpf-hub` client's read side: settings, the hub's JSON index, search, version choice.

`settings` resolves where the hub and the registry are; `hubindex` fetches, caches and checks
the index; `search` ranks packages; `resolve` picks a version. Nothing is re-exported here, so
that importing one of them (e.g. for `ebpf-hub search`) does not pay for the others.
"""
