"""Code generator: LAP spec + overlay -> plain operation model -> Python modules and OpenAPI.

Run ``python -m tools.codegen`` from the project root to rewrite the generated files.
"""
