-- The audit trail: every fact the pipeline reports (audit.events) and the state derived from it
-- (batches, documents, pages, inference_results). Runs in one transaction as the master user;
-- the schema "audit" and audit.schema_migrations already exist (db/migrate.py creates them).
--
-- Convergence. The writer (db/audit.py) merges each event into the derived tables with
-- operations that are commutative, associative and idempotent, so that any order of arrival
-- and any number of redeliveries end in the same rows:
--   * events: one row per (subject, stage, unit, status); when the same key arrives again with
--     other content, the row keeps the smallest (occurred_at, component, duration, digest of the
--     detail), so every arrival order keeps the same event and a redelivery changes nothing;
--   * documents and batches: each fact column keeps LEAST (text, earliest time) or GREATEST
--     (page count) of what the events said;
--   * pages: each stage's status only moves up audit.status_rank (failed < quarantined <
--     rejected < succeeded), a quarantine flag only goes from false to true;
--   * text compares bytewise (COLLATE "C", the writer's own order), whatever the database's collation;
--   * documents' page counters follow the pages rows through a trigger (old row out, new row in).

CREATE FUNCTION audit.status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status WHEN 'succeeded' THEN 4 WHEN 'rejected' THEN 3 WHEN 'quarantined' THEN 2
                       WHEN 'failed' THEN 1 ELSE 0 END;

CREATE TABLE audit.batches (
    batch_id    text PRIMARY KEY CHECK (batch_id ~ '^b-[0-9A-Za-z-]{1,64}$'),
    bucket      text COLLATE "C",  -- from the batch event; null for batches without one (auto-ingest)
    prefixes    text[] COLLATE "C",
    created_at  timestamptz,   -- when the batch event says it was created
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit.documents (
    document_id       text PRIMARY KEY CHECK (document_id ~ '^d-[0-9a-f]{32}$'),
    batch_id          text NOT NULL REFERENCES audit.batches,
    bucket            text COLLATE "C",
    object_key        text COLLATE "C",
    version_id        text COLLATE "C",
    size_bytes        bigint CHECK (size_bytes >= 0),
    size_class        text COLLATE "C" CHECK (size_class IN ('large', 'small', 'single_page')),
    page_count        integer CHECK (page_count >= 0),
    reject_reason     text COLLATE "C",  -- a document-level rejection (classification: not_pdf, encrypted, ...)
    quarantine_reason text COLLATE "C",  -- a document- or chunk-level quarantine (the failsafe gave up)
    listed_at         timestamptz,
    classified_at     timestamptz,
    -- maintained from audit.pages by audit.count_page_changes()
    pages_seen        integer NOT NULL DEFAULT 0,
    pages_split       integer NOT NULL DEFAULT 0,
    pages_converted   integer NOT NULL DEFAULT 0,
    pages_inferred    integer NOT NULL DEFAULT 0,
    pages_rejected    integer NOT NULL DEFAULT 0,  -- conversion refused the page (page_too_large)
    pages_quarantined integer NOT NULL DEFAULT 0,  -- quarantined and not converted since
    pages_failing     integer NOT NULL DEFAULT 0,  -- a failed attempt not superseded, not quarantined
    status text NOT NULL GENERATED ALWAYS AS (
        CASE
            WHEN reject_reason IS NOT NULL THEN 'rejected'
            WHEN page_count > 0 AND pages_inferred > 0
                 AND pages_inferred + pages_rejected >= page_count THEN 'inferred'
            WHEN page_count > 0 AND pages_converted + pages_rejected >= page_count THEN 'converted'
            WHEN quarantine_reason IS NOT NULL OR pages_quarantined > 0 THEN 'quarantined'
            WHEN size_class IS NOT NULL THEN 'in_progress'
            ELSE 'listed'
        END) STORED,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_by_batch ON audit.documents (batch_id, status);

CREATE TABLE audit.events (
    event_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id     text NOT NULL REFERENCES audit.batches,
    document_id  text REFERENCES audit.documents,
    subject      text NOT NULL GENERATED ALWAYS AS (COALESCE(document_id, batch_id)) STORED,
    stage        text NOT NULL CHECK (stage IN ('batch', 'listed', 'classified', 'split_large', 'split_small',
                                                'converted', 'inferred', 'failsafe', 'quarantined')),
    status       text NOT NULL CHECK (status IN ('succeeded', 'rejected', 'failed', 'quarantined')),
    unit         text NOT NULL DEFAULT '' CHECK (unit ~ '^(|page:[0-9]{6}|chunk:[0-9]{6}-[0-9]{6})$'),
    component    text COLLATE "C" NOT NULL,
    occurred_at  timestamptz NOT NULL,
    duration_ms  integer CHECK (duration_ms >= 0),
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(detail) = 'object'),
    detail_digest text COLLATE "C" NOT NULL DEFAULT '',  -- sha256 of the writer's canonical JSON of detail
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((stage = 'batch') = (document_id IS NULL)),
    -- One event per stage, unit and outcome: a failed attempt does not hide the success that follows it.
    CONSTRAINT events_once UNIQUE (subject, stage, unit, status)
);
CREATE INDEX events_by_batch ON audit.events (batch_id, stage, status);
CREATE INDEX events_not_succeeded ON audit.events (batch_id, document_id) WHERE status <> 'succeeded';

CREATE TABLE audit.pages (
    document_id      text NOT NULL REFERENCES audit.documents,
    page_number      integer NOT NULL CHECK (page_number BETWEEN 1 AND 999999),
    batch_id         text NOT NULL REFERENCES audit.batches,
    split_status     text CHECK (split_status IN ('succeeded', 'rejected', 'failed', 'quarantined')),
    converted_status text CHECK (converted_status IN ('succeeded', 'rejected', 'failed', 'quarantined')),
    inferred_status  text CHECK (inferred_status IN ('succeeded', 'rejected', 'failed', 'quarantined')),
    quarantined      boolean NOT NULL DEFAULT false,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, page_number)
);
CREATE INDEX pages_by_batch ON audit.pages (batch_id);

CREATE TABLE audit.inference_results (
    document_id  text NOT NULL REFERENCES audit.documents,
    page_number  integer NOT NULL CHECK (page_number BETWEEN 1 AND 999999),
    batch_id     text NOT NULL REFERENCES audit.batches,
    answer       jsonb NOT NULL,   -- the model's answer as it came (the inferred event's detail)
    answer_digest text COLLATE "C" NOT NULL,  -- sha256 of the writer's canonical JSON of answer
    features     jsonb NOT NULL GENERATED ALWAYS AS (
        CASE WHEN jsonb_typeof(answer -> 'features') = 'object' THEN answer -> 'features' ELSE '{}'::jsonb END
    ) STORED,
    component    text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, page_number)
);
CREATE INDEX inference_results_by_batch ON audit.inference_results (batch_id);

-- How a pages row counts in its document: 1 or 0 per counter.
CREATE FUNCTION audit.page_counts(p audit.pages,
    OUT seen integer, OUT split integer, OUT converted integer, OUT inferred integer,
    OUT rejected integer, OUT quarantined integer, OUT failing integer)
    LANGUAGE sql IMMUTABLE
AS $$
    SELECT 1,
           (p.split_status IS NOT DISTINCT FROM 'succeeded')::integer,
           (p.converted_status IS NOT DISTINCT FROM 'succeeded')::integer,
           (p.inferred_status IS NOT DISTINCT FROM 'succeeded')::integer,
           (p.converted_status IS NOT DISTINCT FROM 'rejected')::integer,
           (p.quarantined AND p.converted_status IS DISTINCT FROM 'succeeded'
                          AND p.converted_status IS DISTINCT FROM 'rejected')::integer,
           (COALESCE('failed' IN (p.split_status, p.converted_status, p.inferred_status), false)
            AND NOT p.quarantined)::integer
$$;

-- Keeps documents' page counters equal to what their pages rows say: the new row counts in,
-- the old row (on update) counts out.
CREATE FUNCTION audit.count_page_changes() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    n record;
    o record;
BEGIN
    SELECT * INTO n FROM audit.page_counts(NEW);
    IF TG_OP = 'UPDATE' THEN
        SELECT * INTO o FROM audit.page_counts(OLD);
    ELSE
        SELECT 0 AS seen, 0 AS split, 0 AS converted, 0 AS inferred, 0 AS rejected, 0 AS quarantined,
               0 AS failing INTO o;
    END IF;
    UPDATE audit.documents SET
        pages_seen        = pages_seen        + n.seen        - o.seen,
        pages_split       = pages_split       + n.split       - o.split,
        pages_converted   = pages_converted   + n.converted   - o.converted,
        pages_inferred    = pages_inferred    + n.inferred    - o.inferred,
        pages_rejected    = pages_rejected    + n.rejected    - o.rejected,
        pages_quarantined = pages_quarantined + n.quarantined - o.quarantined,
        pages_failing     = pages_failing     + n.failing     - o.failing
    WHERE document_id = NEW.document_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER pages_count_in_documents
    AFTER INSERT OR UPDATE ON audit.pages
    FOR EACH ROW EXECUTE FUNCTION audit.count_page_changes();
