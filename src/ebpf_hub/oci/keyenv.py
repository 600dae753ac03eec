"""The environment variable naming the hub's public key.

Read by the client's settings on every command and named in the hints of everything that
verifies (install, verify, the index build's matrix fill): kept apart from `oci.keys` so that
reading it loads no cryptography, and below both `client` and `publish`.
"""

PUBLIC_KEY_ENV = "EBPF_HUB_PUBLIC_KEY"
