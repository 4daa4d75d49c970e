"""CDK for Terraform stacks and constructs of the transaction-processing system.

Importing the package has no side effects; the app's entry point switches the provider-import speed-up
on (``card_transactions.activate``).
"""
