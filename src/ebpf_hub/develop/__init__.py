"""Developing a package outside the hub: scaffold it from a template, build, load-test, publish
it to the author's own registry, and turn its manifest into an index entry for the hub."""
