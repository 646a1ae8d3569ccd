"""Development tools for iqualify-async (not shipped with the package)."""
