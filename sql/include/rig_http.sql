--
-- The test rig's HTTP side, for the credential tests:
--   pg_temp.get_json(url)        GETs a JSON document (counters);
--   pg_temp.post(url)            POSTs nothing (a reset);
--   pg_temp.copy_hours(bucket)   makes BUCKET hold six hours of one account
--                                and region copied from the bucket logs,
--                                and three of them again below fault-delay/
--                                (whose GETs the proxy answers 400 ms late).
-- A test includes this file between \set ECHO none and \set ECHO all.
--
CREATE TEMP TABLE rig_raw (line text);
CREATE FUNCTION pg_temp.get_json(url text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE j jsonb;
BEGIN
  TRUNCATE rig_raw;
  EXECUTE format('COPY rig_raw FROM PROGRAM %L',
                 format('curl -s %s | tr -d ''\n''', url));
  SELECT line::jsonb INTO j FROM rig_raw;
  RETURN j;
END $$;
CREATE FUNCTION pg_temp.post(url text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L',
                 format('cat >/dev/null; curl -s -o /dev/null -X POST ''%s''', url));
END $$;
CREATE FUNCTION pg_temp.copy_hours(bucket text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', replace($sh$cat >/dev/null; set -e
s3=http://127.0.0.1:45711
b=@BUCKET@
curl -s -o /dev/null -X PUT $s3/$b
src=bedrock/AWSLogs/111111111111/BedrockModelInvocationLogs/us-east-1/2026/11/01/
for k in $(curl -s "$s3/logs?list-type=2&prefix=$src" | grep -oE '<Key>[^<]*</Key>' | sed -E 's#</?Key>##g' | grep -E '[0-9]{8}T[0-9]+Z_[0-9a-f]+\.json\.gz$'); do
  f=/tmp/bedlog-$b-$$.gz
  curl -s -o $f "$s3/logs/$k"
  rest=${k#bedrock/}
  curl -s -o /dev/null -X PUT -H 'Content-Type: application/gzip' --data-binary @$f "$s3/$b/$rest"
  case $rest in */2026/11/01/0[012]/*) curl -s -o /dev/null -X PUT -H 'Content-Type: application/gzip' --data-binary @$f "$s3/$b/fault-delay/$rest" ;; esac
  rm -f $f
done$sh$, '@BUCKET@', bucket));
END $fn$;
