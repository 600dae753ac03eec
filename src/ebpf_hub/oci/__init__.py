"""OCI artifacts for eBPF Hub: references, stores (registry or layout), push, pull, signatures.

Each job lives in its own module, imported by what needs it (nothing is re-exported here, so
a command pays only for the modules it uses): ``reference`` parses, ``digest`` verifies,
``layout`` and ``registry`` are the two stores behind the ``store.Store`` protocol,
``transport`` and ``auth`` speak to registries, ``artifact`` builds and reads package
artifacts, ``copy`` moves them between stores, ``keys`` and ``signing`` handle
cosign-compatible signatures, ``referrers`` attaches and finds OCI 1.1 referrers, ``dsse`` signs
in-toto statements in Sigstore bundles, ``provenance`` is the SLSA provenance of an artifact,
``errors`` holds the exceptions.
"""
