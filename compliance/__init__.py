"""Compliance gate (checkov) of the synthesized Terraform."""
