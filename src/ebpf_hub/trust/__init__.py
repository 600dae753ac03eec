"""The signed index: TUF metadata over the hub's `api/v1` files (python-tuf).

The hub signs (`repository`, with the ceremony of `ceremony` for its root), the client checks
(`client`): a file of the index is used only when a chain of signatures from the client's
trusted `root.json` vouches for its exact bytes, and only while that chain has not expired.
"""
