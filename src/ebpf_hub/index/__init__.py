"""The package index: YAML files in Git, their validation, and the JSON index built from them."""
