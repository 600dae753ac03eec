"""Publishing: build the versions a merge added and push them, signed, to a registry."""
