"""pytest plugin registered through the ``pytest11`` entry point.

Fixtures are thin wrappers over public classes of :mod:`attune_core.testing`; they are added as
the engine grows. Importing this module must stay cheap and side-effect free.
"""
