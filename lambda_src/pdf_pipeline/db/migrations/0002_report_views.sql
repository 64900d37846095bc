-- The reports (GET /reports/{name}, the operators' `report` command): one view each, named
-- audit.report_<name>. Every view but stage_durations has a batch_id column to filter on.

-- Documents processed, per batch: how many were found, classified, converted, inferred, and
-- how many ended rejected or quarantined or are still in progress.
CREATE VIEW audit.report_documents_processed AS
SELECT d.batch_id,
       b.created_at,
       count(*)                                                             AS documents_found,
       count(*) FILTER (WHERE d.size_class IS NOT NULL OR d.reject_reason IS NOT NULL)
                                                                            AS documents_classified,
       count(*) FILTER (WHERE d.status IN ('converted', 'inferred'))        AS documents_converted,
       count(*) FILTER (WHERE d.status = 'inferred')                        AS documents_inferred,
       count(*) FILTER (WHERE d.status = 'rejected')                        AS documents_rejected,
       count(*) FILTER (WHERE d.status = 'quarantined')                     AS documents_quarantined,
       count(*) FILTER (WHERE d.status IN ('listed', 'in_progress'))        AS documents_in_progress,
       COALESCE(sum(d.pages_converted), 0)::bigint                          AS pages_converted,
       COALESCE(sum(d.pages_inferred), 0)::bigint                           AS pages_inferred
FROM audit.documents d
JOIN audit.batches b USING (batch_id)
GROUP BY d.batch_id, b.created_at;

-- A failure's reason: what the event's detail says, under the first key present.
CREATE FUNCTION audit.reason_of(detail jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN COALESCE(detail ->> 'reason', detail ->> 'error', detail ->> 'message', 'no reason given');

-- Documents with failures and why: every document with an event that did not succeed (a failed
-- attempt, a rejection, a quarantine), its current status and its distinct reasons.
CREATE VIEW audit.report_document_failures AS
SELECT e.batch_id,
       e.document_id,
       d.bucket,
       d.object_key,
       d.status,
       count(*)                                                          AS failure_events,
       array_agg(DISTINCT e.stage || ' ' || e.status || ': ' || audit.reason_of(e.detail)) AS reasons,
       max(e.occurred_at)                                                AS last_failure_at
FROM audit.events e
JOIN audit.documents d USING (document_id)
WHERE e.status <> 'succeeded'
GROUP BY e.batch_id, e.document_id, d.bucket, d.object_key, d.status;

-- A model feature's value read as a boolean: true, 1, "true"/"yes"/"y"/"1"/"present" (any
-- case, trimmed) say the feature is there; false, 0, null, "false"/"no"/"n"/"0"/"absent"/""
-- say it is not; anything else (other numbers such as scores, other strings, objects, arrays)
-- is not a boolean and the feature is left out of the count for that page.
CREATE FUNCTION audit.feature_present(value jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE jsonb_typeof(value)
        WHEN 'boolean' THEN value = 'true'::jsonb
        WHEN 'null' THEN false
        WHEN 'number' THEN CASE WHEN value = '1'::jsonb THEN true WHEN value = '0'::jsonb THEN false END
        WHEN 'string' THEN CASE WHEN lower(btrim(value #>> '{}')) IN ('true', 'yes', 'y', '1', 'present') THEN true
                                WHEN lower(btrim(value #>> '{}')) IN ('false', 'no', 'n', '0', 'absent', '') THEN false
                           END
    END;

-- Documents with and without each feature the model returns, per batch. A feature is a key of
-- the answer's "features" object on any inferred page of the batch. A document has it when
-- the feature is present (audit.feature_present) on at least one of its inferred pages; it is
-- without it when it has inferred pages and none of them has it present (false or missing).
CREATE VIEW audit.report_document_features AS
WITH page_features AS (
    SELECT r.batch_id, r.document_id, f.key AS feature, audit.feature_present(f.value) AS present
    FROM audit.inference_results r
    CROSS JOIN LATERAL jsonb_each(r.features) AS f
), inferred_documents AS (
    SELECT batch_id, count(DISTINCT document_id) AS documents
    FROM audit.inference_results
    GROUP BY batch_id
), with_feature AS (
    SELECT batch_id, feature, count(DISTINCT document_id) FILTER (WHERE present) AS documents
    FROM page_features
    WHERE present IS NOT NULL
    GROUP BY batch_id, feature
)
SELECT w.batch_id,
       w.feature,
       w.documents                   AS documents_with,
       i.documents - w.documents     AS documents_without
FROM with_feature w
JOIN inferred_documents i USING (batch_id);

-- Pages per stage, per batch: how many pages each stage holds by outcome (a page counts once
-- per stage, with its best outcome there).
CREATE VIEW audit.report_pages_per_stage AS
SELECT p.batch_id,
       s.stage,
       count(*) FILTER (WHERE s.status = 'succeeded')   AS succeeded,
       count(*) FILTER (WHERE s.status = 'rejected')    AS rejected,
       count(*) FILTER (WHERE s.status = 'quarantined') AS quarantined,
       count(*) FILTER (WHERE s.status = 'failed')      AS failed
FROM audit.pages p
CROSS JOIN LATERAL (VALUES ('split_small', p.split_status),
                           ('converted', p.converted_status),
                           ('inferred', p.inferred_status)) AS s (stage, status)
WHERE s.status IS NOT NULL
GROUP BY p.batch_id, s.stage;

-- Mean duration per stage and component over every event that reported one (the post's
-- cost-optimisation view: where the time goes, and on which compute). Rows with component
-- 'all' total a stage; rows with stage 'all' total a component.
CREATE VIEW audit.report_stage_durations AS
SELECT CASE WHEN GROUPING(stage) = 1 THEN 'all' ELSE stage END         AS stage,
       CASE WHEN GROUPING(component) = 1 THEN 'all' ELSE component END AS component,
       count(*)                                                        AS events,
       round(avg(duration_ms), 1)::float8                              AS mean_duration_ms,
       max(duration_ms)                                                AS max_duration_ms,
       sum(duration_ms)::bigint                                        AS total_duration_ms
FROM audit.events
WHERE duration_ms IS NOT NULL
GROUP BY GROUPING SETS ((stage, component), (stage), (component));
