"""The one exception type the CLI turns into a single-line error and a non-zero exit."""


class HubError(Exception):
    """An error a user can act on: the message names the cause and the next step."""
