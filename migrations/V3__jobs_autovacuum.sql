-- The jobs table is a queue: most of its rows change status within minutes. Keep
-- its statistics and dead tuples in step with that instead of Postgres's defaults
-- (analyze after 10% of rows change, vacuum after 20%), so that a burst of new
-- jobs is planned as many queued rows, not the few the last analyze saw.
ALTER TABLE jobs SET (
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_scale_factor = 0.05
);
