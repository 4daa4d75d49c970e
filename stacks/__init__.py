"""CDK for Terraform stacks of the transaction-processing system."""

from stacks import bindings  # noqa: F401  (must run before any provider module is imported)
