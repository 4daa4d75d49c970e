"""Pure domain logic: no AWS SDK, no process environment. Everything here is testable without AWS."""
