"""Commands of the ``attune`` CLI, one module per group."""
