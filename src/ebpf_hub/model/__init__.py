"""Typed, frozen classes for the hub's JSON contracts, read and written as JSON only at the edge.

One module per contract: `index` (an `api/v1/packages/<name>.json` entry and its versions),
`requires` (what a package needs of the host, with the schema's defaults written once) and
`version_spec` (what `NAME@SPEC` selects). Each class has `from_json`, taking a document the
schema has already checked, and `to_json`, giving back the same JSON.

The model imports nothing heavy (no validator, no OCI or network stack, no site or object
reader): the client imports it at start-up.
"""
