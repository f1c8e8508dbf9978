"""Sandbox dialects the tests pin, beyond the named presets."""

from django_accepton.sandbox.dialects import Dialect

# The default reading, but AcceptOn answers GET /v1/tokens/rtx_… (undocumented either way).
RTX_RETRIEVABLE = Dialect.preset("strict-docs").replace(rtx_retrieve="yes")
# The default reading, but without GET /v1/tokens/rtx_….
RTX_UNRETRIEVABLE = Dialect.preset("strict-docs").replace(rtx_retrieve="no")
