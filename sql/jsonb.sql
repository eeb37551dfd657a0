--
-- jsonb columns: values are built straight from the scanned text rather
-- than through jsonb_in.  Every value here must equal what jsonb_in makes
-- of the same text (a json column of the same path, cast to jsonb): the
-- same value, the same text, the same stored size.
-- Fixture: s3://types/j/, one object of hand-written records (escapes,
-- duplicate keys, key order, numbers of every form, literals, empty
-- containers, odd whitespace, scalars, 100- and 150-deep nesting, an
-- object of 3,000 keys); s3://types/jbad/: strings jsonb cannot hold.
--
CREATE FOREIGN TABLE jb (
  model_id text,
  n int,
  v jsonb OPTIONS (json_path 'v'),
  v_json json OPTIONS (json_path 'v'),
  rec jsonb OPTIONS (json_path '$'),
  rec_json json OPTIONS (json_path '$')
) SERVER s3 OPTIONS (location 's3://types/j/');

-- the differential check, record by record: no row may differ
SELECT n, model_id,
       v IS NOT DISTINCT FROM v_json::jsonb AS v_equal,
       v::text IS NOT DISTINCT FROM v_json::jsonb::text AS v_text_equal,
       pg_column_size(v) IS NOT DISTINCT FROM pg_column_size(v_json::jsonb) AS v_size_equal,
       rec = rec_json::jsonb AND rec::text = rec_json::jsonb::text
         AND pg_column_size(rec) = pg_column_size(rec_json::jsonb) AS rec_equal
  FROM jb ORDER BY n;

-- with the whole record also read (rec), v is taken out of rec's jsonb
-- rather than built from its text: the same values either way
CREATE FOREIGN TABLE jb_alone (n int, v jsonb OPTIONS (json_path 'v'))
  SERVER s3 OPTIONS (location 's3://types/j/');
SELECT count(*) AS rows, count(*) FILTER (WHERE a.has_rec) AS with_rec,
       count(*) FILTER (WHERE a.v IS DISTINCT FROM b.v OR a.v::text IS DISTINCT FROM b.v::text
                          OR pg_column_size(a.v) IS DISTINCT FROM pg_column_size(b.v)) AS differing
  FROM (SELECT n, v, rec IS NOT NULL AS has_rec FROM jb) a JOIN jb_alone b USING (n);

-- and what some of them are, spelled out
SELECT n, v FROM jb WHERE n IN (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13) ORDER BY n;
SELECT jsonb_array_length(v) AS numbers, v->>0 AS zero, v->>1 AS minus_zero,
       v->>6 AS nineteen_digits, v->>7 AS twenty_six_digits, v->>13 AS small,
       v->>14 AS minus_zero_point_zero, length(v->>15) AS digits_of_1e400,
       v->>16 AS fraction
  FROM jb WHERE n = 4;
SELECT v #>> '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,d}' AS deep_value
  FROM jb WHERE n = 14;
SELECT (SELECT count(*) FROM jsonb_object_keys(v)) AS keys, v->>'k0000' AS k0000, v->>'k2999' AS k2999
  FROM jb WHERE n = 16;

-- strings jsonb cannot hold: the error jsonb_in gives, naming object and line
CREATE FOREIGN TABLE jb_bad (n int, v jsonb OPTIONS (json_path 'v'))
  SERVER s3 OPTIONS (location 's3://types/jbad/');
-- (line 2 fails before the filter on n is applied)
SELECT n, v FROM jb_bad WHERE n = 1;
-- skipped under on_error 'skip', with a count
ALTER FOREIGN TABLE jb_bad OPTIONS (ADD on_error 'skip');
SELECT n, v FROM jb_bad;
