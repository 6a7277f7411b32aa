"""Flow control as the API shows it: concurrency keys with their holders and queued tasks."""
