-- P3: jobs/create-customers.yaml --dry-run, reproduced. Run in a directory holding
-- customers.csv; writes results.plan.csv and results.plan.jsonl like the runner's plan.
--
-- Rows are read in file order (WITH ORDINALITY: the 1-based row) and written in that
-- order: DuckDB keeps insertion order by default (preserve_insertion_order), no sort.
--
-- stable_id('customer', email:1 or name): SHA-256 of each part followed by 0x1f, first
-- 16 bytes, URL-safe base64 without padding. `or` in the template is Jinja truthiness: an
-- empty cell falls back to the name (read_csv gives NULL for an empty cell). The dialect
-- is fixed (no comment character: the sniffer took a first cell starting with '#' for one).
-- prefixed(): non-blank cells (blank = empty after trimming) in column order, kept untrimmed.
-- prefixed_map(): keys sorted (a BTreeMap), here attr1 < attr2 < attr3 already.
-- `address or omit`: the key is left out for an empty address.
-- Cells a spreadsheet would read as a formula (=, +, -, @, tab, CR first) get a leading
-- quote in the results/plan CSV (src/results/mod.rs escape_cell): key columns, outcome,
-- step, error_code, detail, captures and row_key; the numbers and `result` are not.
CREATE MACRO esc(s) AS CASE WHEN left(s, 1) IN ('=', '+', '-', '@', chr(9), chr(13))
                            THEN '''' || s ELSE s END;

-- Blank as the runner's is_blank: empty after trimming whitespace (ASCII whitespace here;
-- Rust's trim also drops Unicode spaces such as U+00A0, which this does not).
CREATE MACRO blank(x) AS
  x IS NULL OR trim(x, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)) = '';

CREATE TEMP VIEW c AS
SELECT ordinality AS "row",
       "name", "address", "email:1" AS e1,
       [x FOR x IN ["email:1", "email:2", "email:3"] IF NOT blank(x)] AS emails,
       [x FOR x IN ["phone:1", "phone:2", "phone:3"] IF NOT blank(x)] AS phones,
       map_from_entries([e FOR e IN [('attr1', "customAttribute:attr1"),
                                     ('attr2', "customAttribute:attr2"),
                                     ('attr3', "customAttribute:attr3")]
                         IF NOT blank(e[2])]) AS attrs,
       replace(replace(rtrim(to_base64(unhex(left(sha256(
           'customer' || chr(31) || coalesce(nullif("email:1", ''), coalesce("name", '')) || chr(31)),
           32))), '='), '+', '-'), '/', '_') AS id,
       -- line breaks inside the row's cells, for the next rows' `line`
       length(concat("name", "address", "email:1", "email:2", "email:3", "phone:1", "phone:2",
                     "phone:3", "customAttribute:attr1", "customAttribute:attr2",
                     "customAttribute:attr3"))
       - length(replace(concat("name", "address", "email:1", "email:2", "email:3", "phone:1",
                               "phone:2", "phone:3", "customAttribute:attr1",
                               "customAttribute:attr2", "customAttribute:attr3"), chr(10), ''))
         AS breaks
FROM read_csv('customers.csv', header = true, all_varchar = true, delim = ',', quote = '"',
              escape = '"', comment = '') WITH ORDINALITY;

-- The plan CSV has the results columns: row, line (where the row starts: the header is
-- line 1, and a quoted cell with line breaks pushes the next rows down), the key columns,
-- then the run's columns. The rows holding line breaks are listed first (usually none), so
-- `line` needs no window (a running sum cost a sort: 14 s instead of 8 s at 1M rows).
SET VARIABLE multiline = (SELECT coalesce(list(("row", breaks) ORDER BY "row"), [])
                          FROM c WHERE breaks > 0);
CREATE MACRO csv_field(s) AS
  CASE WHEN contains(s, ',') OR contains(s, '"') OR contains(s, chr(10)) OR contains(s, chr(13))
       THEN '"' || replace(s, '"', '""') || '"' ELSE s END;
COPY (
  SELECT concat_ws(',', "row",
                   "row" + 1 + coalesce(list_sum([m[2] FOR m IN getvariable('multiline')
                                                  IF m[1] < "row"]), 0),
                   csv_field(esc(coalesce("name", ''))),
                   csv_field(esc(coalesce(e1, ''))),
                   'planned,planned,create,,0,0,,', csv_field(esc(id)), '', '')
    AS "row,line,name,email:1,result,outcome,step,http_status,attempts,duration_ms,error_code,detail,create.id,row_key,row_fingerprint"
  FROM c
) TO 'results.plan.csv' (HEADER, QUOTE '', ESCAPE '');

-- One JSON line per request, keys in the runner's order (the body in the manifest's order).
COPY (
  SELECT "row", 'create' AS step, 'POST' AS method, '/api/v1/customer-profiles' AS url,
         CASE WHEN coalesce("address", '') = ''
              THEN json_object('id', id, 'name', coalesce("name", ''),
                               'emails', [{'original': x} FOR x IN emails],
                               'phones', [{'original': x} FOR x IN phones],
                               'customAttributes', attrs)
              ELSE json_object('id', id, 'name', coalesce("name", ''), 'address', "address",
                               'emails', [{'original': x} FOR x IN emails],
                               'phones', [{'original': x} FOR x IN phones],
                               'customAttributes', attrs)
         END AS body
  FROM c
) TO 'results.plan.jsonl' (FORMAT json);
