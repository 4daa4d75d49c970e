"""The only modules that talk to AWS. Clients are injected; ClientError maps to handlers.domain.errors."""
