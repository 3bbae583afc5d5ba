-- P5: jobs/events-wfm.yaml over a local events.jsonl, reproduced. Run in a directory
-- holding events.jsonl and a reports/ folder, with the job's params set as variables
-- (bench/vs-duckdb.sh passes them with -cmd):
--   SET VARIABLE end_at = '2026-11-21T00:00:00Z';   -- the spans' `until`
--   SET VARIABLE tz = 'America/Los_Angeles';         -- the intervals' zone
-- Writes reports/events-wfm.csv.
--
-- The runner's fold (src/output/aggregate.rs), in SQL:
-- * Rows are taken in input order (WITH ORDINALITY), not by timestamp. With --input the
--   runner does not filter rows by startAt/endAt, so neither does this.
-- * A span column, per key: a row's `end` closes the key's open span, then its `start`
--   opens one unless one is open. Among the rows that start or end (per key, in input
--   order) the key is open after a row exactly when that row starts, so a start row opens
--   a span iff it also ends or the previous such row did not start; the span closes at the
--   next row that ends (lead() over the opening and ending rows), or at `until`.
-- * A span counts for the group of the row that opened it, split at 30-minute boundaries
--   of the zone's wall clock (time_bucket with the zone, ICU). Pieces are then uniform
--   30-minute steps, which holds for zones whose offsets are whole half hours; the
--   runner's handling of a repeated wall-clock half hour on the autumn change is not
--   reproduced.
-- * Span totals are sums of whole milliseconds (exact in any order); the report writes
--   k ms as minutes rounded exactly, half up, to 3 decimals: (2000k + 60000) // 120000
--   thousandths.
-- * A line exists where something was counted (a count or a span piece); lines sorted by
--   interval, then group (byte order).
CREATE MACRO csv_field(s) AS
  CASE WHEN contains(s, ',') OR contains(s, '"') OR contains(s, chr(10)) OR contains(s, chr(13))
       THEN '"' || replace(s, '"', '""') || '"' ELSE s END;
-- The runner's `number` of k thousandths: whole numbers plain, others to 3 decimals
-- without trailing zeros.
CREATE MACRO thousandths(k) AS
  CASE WHEN k % 1000 = 0 THEN (k // 1000)::VARCHAR
       ELSE (k // 1000)::VARCHAR || '.' || rtrim(lpad((k % 1000)::VARCHAR, 3, '0'), '0') END;
-- A span total of ms milliseconds, in minutes.
CREATE MACRO span_minutes(ms) AS thousandths((ms * 2000 + 60000) // 120000);

CREATE TEMP TABLE ev AS
SELECT ordinality AS seq,
       epoch_ms("timestamp"::TIMESTAMPTZ) AS t,
       -- {{ row.content.agentId or row.initiator.id }}: Jinja `or`, so an empty id falls through
       coalesce(nullif(content.agentId, ''), initiator.id, '') AS grp,
       coalesce(content.contactId, '') AS contact,
       "type" = 'AGENT_AVAILABILITY/UPDATED' AND list_contains(coalesce(content.availableFor, []), 'VOICE') AS v_start,
       "type" IN ('AGENT_AVAILABILITY/UPDATED', 'AGENT_STATUS/LOGGED_OUT') AS v_end,
       "type" = 'CONTACT/HOLD_STARTED' AND initiator."type" = 'AGENT' AS h_start,
       "type" = 'CONTACT/HOLD_ENDED' AS h_end,
       "type" = 'CONTACT/STARTED' AND content.channel = 'PHONE_CALL' AND initiator."type" = 'AGENT' AS outbound
FROM read_json('events.jsonl', format = 'newline_delimited', columns = {
       "type": 'VARCHAR', "timestamp": 'VARCHAR',
       initiator: 'STRUCT(id VARCHAR, "type" VARCHAR)',
       content: 'STRUCT(agentId VARCHAR, availableFor VARCHAR[], contactId VARCHAR, channel VARCHAR)'})
     WITH ORDINALITY;

CREATE TEMP TABLE marks AS            -- rows that start or end a span, per column
SELECT 1 AS col, grp AS "key", grp, seq, t, v_start AS s, v_end AS e FROM ev WHERE v_start OR v_end
UNION ALL
SELECT 2, contact, grp, seq, t, h_start, h_end FROM ev WHERE h_start OR h_end;

CREATE TEMP TABLE spans AS
WITH opened AS (
  SELECT *, s AND (e OR NOT coalesce(lag(s) OVER (PARTITION BY col, "key" ORDER BY seq), false)) AS opens
  FROM marks
), paired AS (
  SELECT col, grp, opens, t AS from_t,
         lead(t) OVER w AS close_t
  FROM opened WHERE opens OR e
  WINDOW w AS (PARTITION BY col, "key" ORDER BY seq)
)
SELECT col, grp, from_t,
       coalesce(close_t, epoch_ms(getvariable('end_at')::TIMESTAMPTZ)) AS to_t
FROM paired WHERE opens;

CREATE TEMP TABLE pieces AS
SELECT col, grp, b, least(b + 1800000, to_t) - greatest(b, from_t) AS ms
FROM (
  SELECT col, grp, from_t, to_t,
         unnest(generate_series(
           epoch_ms(time_bucket(INTERVAL 30 MINUTES, make_timestamptz(from_t * 1000), getvariable('tz'))),
           to_t - 1, 1800000)) AS b
  FROM spans WHERE to_t > from_t);

COPY (
  WITH counts AS (
    SELECT epoch_ms(time_bucket(INTERVAL 30 MINUTES, make_timestamptz(t * 1000), getvariable('tz'))) AS b,
           grp, count(*) AS n
    FROM ev WHERE outbound GROUP BY ALL
  ), sums AS (
    SELECT b, grp,
           sum(ms) FILTER (col = 1) AS voice,
           sum(ms) FILTER (col = 2) AS hold
    FROM pieces GROUP BY ALL
  )
  SELECT concat_ws(',', csv_field(grp),
           strftime(timezone(getvariable('tz'), make_timestamptz(b * 1000)), '%Y-%m-%d %H:%M'),
           csv_field(getvariable('tz')), '30',
           span_minutes(coalesce(voice, 0)), span_minutes(coalesce(hold, 0)),
           coalesce(n, 0)::VARCHAR)
    AS "Agent ID,Interval Start At,Timezone,Interval Duration (minutes),Voice Available (minutes),Agent Initiated Hold (minutes),Outbound Phone Calls"
  FROM sums FULL OUTER JOIN counts USING (b, grp)
  ORDER BY b, grp
) TO 'reports/events-wfm.csv' (HEADER, QUOTE '', ESCAPE '');
