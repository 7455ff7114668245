"""The application layer: configuration and wiring, the poll pipeline and its scheduler, the
decision use cases, digests, retention and fault reporting. It drives `detectors`, `storage` and
`platforms` and knows nothing of Slack or the terminal; `handlers` and `cli` sit on top of it."""
