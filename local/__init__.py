"""The local runtime: the whole system on one machine, with no AWS account and no Docker.

``python -m local`` (``make local``) synthesizes the transaction stack (cached), starts a moto server with
its tables, queues and topic, runs the real handlers in execution environments like Lambda's (a process
each) behind an API Gateway-like HTTP API and SQS pollers, and prints ready-to-paste ``curl`` and ``aws``
commands. Modules, one job each:

* ``synth``     the stack's ``cdk.tf.json`` for the current settings (synthesized on demand, cached)
* ``stack``     reads that JSON into specs and resolves Terraform references to local values
* ``aws``       the moto server and the stack's resources inside it
* ``functions`` the Lambda functions: execution environments (``worker`` processes) with the function's
  resolved environment, scaling out for concurrent invocations
* ``worker``    one execution environment: imports the handler once, runs one invocation at a time
* ``lambda_context`` the context object Lambda passes to a handler (also used by tests and benchmarks)
* ``metrics``   the functions' EMF metrics, read from their output
* ``gateway``   the REST API stage (key, usage plan, request validation, proxy events)
* ``throttle``  token bucket and quota of the usage plan
* ``pollers``   the SQS event source mappings
* ``events``    API Gateway and SQS event shapes
* ``faults``    random DynamoDB/SNS failures for tests (botocore hooks)
* ``openapi``   the OpenAPI document (``python -m local.openapi`` writes docs/openapi.json)
* ``seed``      sample merchants
* ``runtime``   start-up, banner, shutdown
* ``driver``    the runtime from outside (a subprocess, HTTP and boto3), for the tests and benchmarks
"""
