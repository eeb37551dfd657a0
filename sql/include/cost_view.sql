--
-- The cost view exactly as the README and doc/pricing.md show it, created
-- in the first schema of search_path over its model_invocations (pricing.sql
-- over S3, cwlogs.sql over S3 and CloudWatch Logs).  A test includes this
-- file between \set ECHO none and \set ECHO all.
--
CREATE VIEW model_invocation_costs AS
SELECT m."timestamp", m.account_id, m.region, m.inference_region, m.request_id,
       m.operation, m.model_id, m.identity_arn, m.error_code,
       m.input_token_count, m.output_token_count,
       m.cache_read_input_token_count, m.cache_write_input_token_count,
       c.model_key, c.price_from, c.input_cost, c.output_cost,
       c.cache_read_cost, c.cache_write_cost, c.total_cost
  FROM model_invocations m
 CROSS JOIN LATERAL bedlog_request_cost(m.model_id, m."timestamp",
         m.input_token_count, m.output_token_count,
         m.cache_read_input_token_count, m.cache_write_input_token_count) c;
