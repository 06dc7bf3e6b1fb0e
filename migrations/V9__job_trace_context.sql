-- The W3C trace context (`traceparent`) of the request that created a job, so
-- every publication of it (the first, the sweeper's outbox after a Redis outage,
-- a retry after backoff, a requeue after a worker crash, a manual retry) carries
-- the same one and a book's whole life is one trace. NULL when tracing is off.
ALTER TABLE jobs ADD COLUMN traceparent text;
