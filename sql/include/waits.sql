--
-- What another backend waits on, as pg_stat_activity shows it:
--   pg_temp.waits_on(conn, pid, event)
-- asks, through the dblink connection conn, every 20 ms for up to 5
-- seconds, whether backend pid waits on event, and returns true as soon as
-- it does.  Named wait events exist from PostgreSQL 17 on; before that
-- every extension wait is the built-in "Extension", which then counts as
-- the event.  A test includes this file between \set ECHO none and
-- \set ECHO all.
--
CREATE FUNCTION pg_temp.waits_on(conn text, pid int, event text) RETURNS bool
LANGUAGE plpgsql AS $$
DECLARE
  want text := CASE WHEN current_setting('server_version_num')::int >= 170000
                    THEN event ELSE 'Extension' END;
  seen bool;
BEGIN
  FOR i IN 1..250 LOOP
    SELECT t.seen INTO seen
      FROM dblink(conn, format('SELECT coalesce(wait_event_type = %L AND wait_event = %L, false) '
                               'FROM pg_stat_activity WHERE pid = %s', 'Extension', want, pid))
           AS t(seen bool);
    IF seen THEN
      RETURN true;
    END IF;
    PERFORM pg_sleep(0.02);
  END LOOP;
  RETURN false;
END $$;
