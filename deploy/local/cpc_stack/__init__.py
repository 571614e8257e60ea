"""The local development and test stack: Kafka (KRaft, from Maven jars), FerretDB (built with `go install`),
a mail catcher (aiosmtpd), and the four services as separate processes."""
