"""The signed index: TUF metadata over the hub's `api/v1` files (python-tuf).

The hub signs (`repository`, with the ceremony of `ceremony` for its root), the client checks
(`client`): a file of the index is used only when a chain of signatures from the client's
trusted `root.json` vouches for its exact bytes, and only while that chain has not expired.
"""

import sys
import types

# python-tuf's updater imports its default fetcher, and with it urllib3, whether or not a
# fetcher is passed. This client always passes its own (`trust.fetcher.HubFetcher`, over
# `ebpf_hub.httpclient`), and loading urllib3 is a fifth of what a command reading the signed
# index spends starting up. So, unless something in this process imported the real module
# first, its name is given to a stand-in whose fetcher refuses to be made: a missing fetcher
# fails loudly instead of quietly opening a second HTTP stack.
_DEFAULT_FETCHER = "tuf.ngclient.urllib3_fetcher"


class _NoDefaultFetcher:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("ebpf-hub reads the signed index through trust.fetcher.HubFetcher")


if _DEFAULT_FETCHER not in sys.modules:
    _stand_in = types.ModuleType(_DEFAULT_FETCHER, "python-tuf's default fetcher, unused here")
    _stand_in.Urllib3Fetcher = _NoDefaultFetcher  # type: ignore[attr-defined]
    sys.modules[_DEFAULT_FETCHER] = _stand_in
