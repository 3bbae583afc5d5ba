-- P4: jobs/export-file.yaml over a local conversation_items.jsonl (no contact/phrases
-- filter, so every item is kept), reproduced. Run in a directory holding
-- conversation_items.jsonl and an exports/ folder; writes
-- exports/export-conversation_items.csv.
--
-- A cell is the runner's cell_text (src/output/mod.rs) of the value at the column's path:
-- missing or null -> empty; a string as is; true/false; a number as its JSON text; a list
-- of plain values -> their texts joined with ','; any other list or an object -> compact
-- JSON. read_json reads each line once into a struct of the 42 paths, every leaf typed JSON
-- so that its JSON type (string, number, list, object) picks the rule, as in the runner.
-- The macro is inlined 42 times, which costs about 0.4 s to bind (visible at small sizes);
-- one cell() lambda over a list of the 42 values binds at once but ran 2x slower on 300 MB.
-- Reading whole lines with read_ndjson_objects and json_extract(json, [paths]) gives the
-- same bytes but took 3x longer.
--
-- CSV: the runner quotes a field only when it holds , " LF or CR (push_csv_field). DuckDB's
-- own CSV writer also quotes any field containing '#' ("Order #123" subjects), so the
-- lines are built here and written with quoting off (QUOTE ''): one column, whose name is
-- the header line. Output files are not formula-escaped (only results CSVs are).
CREATE MACRO csv_field(s) AS
  CASE WHEN contains(s, ',') OR contains(s, '"') OR contains(s, chr(10)) OR contains(s, chr(13))
       THEN '"' || replace(s, '"', '""') || '"' ELSE s END;
CREATE MACRO scalar_text(v) AS
  CASE json_type(v) WHEN 'VARCHAR' THEN json_extract_string(v, '$')
                    WHEN 'NULL' THEN ''
                    ELSE CAST(v AS VARCHAR) END;
CREATE MACRO cell(v) AS csv_field(
  CASE WHEN v IS NULL THEN ''
       WHEN json_type(v) = 'ARRAY' THEN
         CASE WHEN len(list_filter(json_extract(v, '$[*]'),
                                   lambda e: json_type(e) IN ('ARRAY', 'OBJECT'))) > 0
              THEN CAST(v AS VARCHAR)
              ELSE array_to_string(list_transform(json_extract(v, '$[*]'),
                                                  lambda e: scalar_text(e)), ',') END
       WHEN json_type(v) = 'OBJECT' THEN CAST(v AS VARCHAR)
       ELSE scalar_text(v) END);

COPY (
  SELECT concat_ws(',',
           cell(id), cell(customerId), cell(conversationId), cell("timestamp"),
           cell(initiator.id), cell(initiator."type"), cell(responder.id), cell(responder."type"),
           cell(c."type"), cell(c.messageType), cell(c.sessionId), cell(c."content"),
           cell(c.attachments), cell(c.messageData), cell(c.status), cell(c.title), cell(c.body),
           cell(c.activityType), cell(c.sourceName), cell(c.link.url), cell(c.link."text"),
           cell(c.expandByDefault), cell(c.occurredAt), cell(c.receivedAt), cell(c."from"),
           cell(c."to"), cell(c.cc), cell(c.bcc), cell(c.subject), cell(c.pageId), cell(c.userId),
           cell(c.startedAt), cell(c.answeredAt), cell(c.completedAt), cell(c.recordingStatus),
           cell(c.recordingUrl), cell(c.recordingDuration), cell(c.recordingSummary.status),
           cell(c.recordingSummary.summary), cell(c.recordingSummary."language"),
           cell(c.addedTopicIds), cell(c.removedTopicIds))
    AS "id,customerId,conversationId,timestamp,initiator.id,initiator.type,responder.id,responder.type,content.type,content.messageType,content.sessionId,content.content,content.attachments,content.messageData,content.status,content.title,content.body,content.activityType,content.sourceName,content.link.url,content.link.text,content.expandByDefault,content.occurredAt,content.receivedAt,content.from,content.to,content.cc,content.bcc,content.subject,content.pageId,content.userId,content.startedAt,content.answeredAt,content.completedAt,content.recordingStatus,content.recordingUrl,content.recordingDuration,content.recordingSummary.status,content.recordingSummary.summary,content.recordingSummary.language,content.addedTopicIds,content.removedTopicIds"
  FROM read_json('conversation_items.jsonl', format = 'newline_delimited', columns = {
         id: 'JSON', customerId: 'JSON', conversationId: 'JSON', "timestamp": 'JSON',
         initiator: 'STRUCT(id JSON, "type" JSON)',
         responder: 'STRUCT(id JSON, "type" JSON)',
         "content": 'STRUCT("type" JSON, messageType JSON, sessionId JSON, "content" JSON,
                     attachments JSON, messageData JSON, status JSON, title JSON, body JSON,
                     activityType JSON, sourceName JSON, link STRUCT(url JSON, "text" JSON),
                     expandByDefault JSON, occurredAt JSON, receivedAt JSON, "from" JSON,
                     "to" JSON, cc JSON, bcc JSON, subject JSON, pageId JSON, userId JSON,
                     startedAt JSON, answeredAt JSON, completedAt JSON, recordingStatus JSON,
                     recordingUrl JSON, recordingDuration JSON,
                     recordingSummary STRUCT(status JSON, summary JSON, "language" JSON),
                     addedTopicIds JSON, removedTopicIds JSON)'})
       AS t(id, customerId, conversationId, "timestamp", initiator, responder, c)
) TO 'exports/export-conversation_items.csv' (HEADER, QUOTE '', ESCAPE '');
