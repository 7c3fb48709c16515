-- Alerts are copied as the detector commits them, replaced by id as they grow.
CREATE INDEX alerts_id ON alerts (id, node);
