"""The local runtime: the whole system on one machine, with no AWS account and no Docker.

``python -m local`` (``make local``) synthesizes the transaction stack (cached), starts a moto server with
its tables, queues and topic, runs the real handlers in execution environments like Lambda's (a process
each) behind an API Gateway-like HTTP API and SQS pollers, and prints ready-to-paste ``curl`` and ``aws``
commands. Modules, one job each:

* ``config``    the runtime's own settings (``LOCAL_*``), faults and outages
* ``synth``     the stack's ``cdk.tf.json`` for the current settings (synthesized on demand, cached)
* ``stack``     reads that JSON into specs; ``expressions`` resolves its Terraform references to local values
* ``aws``       the moto server and the stack's resources inside it
* ``functions`` the Lambda functions: execution environments (``worker`` processes) with the function's
  resolved environment, scaling out for concurrent invocations
* ``worker``    one execution environment: imports the handler once, runs one invocation at a time
* ``lambda_context`` the context object Lambda passes to a handler (also used by tests and benchmarks)
* ``metrics``   the functions' EMF metrics, read from their output
* ``gateway``   the REST API stage (key, usage plan, request validation, proxy events); ``api_keys``
  which key is in which client's usage plan
* ``throttle``  token bucket and quota of the usage plan
* ``pollers``   the SQS event source mappings
* ``stream_pipes``, ``event_bus``, ``pipe_rules`` the alert pipes: stream -> filter -> bus -> rule -> topic
* ``schedules`` the scheduled functions (the reconciler)
* ``request_counter`` the AWS requests made, by service and operation
* ``events``    API Gateway and SQS event shapes
* ``faults``    random DynamoDB/SNS failures for tests (botocore hooks)
* ``openapi``   the OpenAPI document (``python -m local.openapi`` writes docs/openapi.json)
* ``seed``      sample merchants
* ``runtime``   start-up, shutdown
* ``banner``    what it prints once ready, and the ready file (``LOCAL_READY_FILE``)
* ``driver``    the runtime from outside (a subprocess, HTTP and boto3), for the tests and benchmarks
"""
