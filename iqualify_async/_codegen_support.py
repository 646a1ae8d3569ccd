"""Everything the generated resource modules (``resources/``) use, in one place.

Generated code imports hand-written code only through this module (and the generated
``types``), never the bulk layer or the command line.
"""

# isort: skip_file
# ``types`` first: it re-exports ``_multistatus`` names, and ``_multistatus`` uses its models.
from . import types as types
from . import _multistatus as _ms
from . import _validation as _v
from ._base_client import BaseClient
from ._converter import decode, decode_list, decode_one_or_many, decode_string_map, decode_strings
from ._multistatus import AddUsersResult
from ._retry import RetryPolicy
from ._types import JSON, UNSET, TimeoutArg, Unset

__all__ = [
    "JSON",
    "UNSET",
    "AddUsersResult",
    "BaseClient",
    "RetryPolicy",
    "TimeoutArg",
    "Unset",
    "_ms",
    "_v",
    "decode",
    "decode_list",
    "decode_one_or_many",
    "decode_string_map",
    "decode_strings",
]
