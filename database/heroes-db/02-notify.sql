-- Change feed of hero ids on channel hero_ids, so every replica of the service can keep
-- its in-memory id set (used for random picks) coherent with the table.
-- Payloads: '+<id>' row added, '-<id>' row removed, '*' table truncated (reload all).
-- An UPDATE that changes the id sends '-<old>' then '+<new>'.
-- Idempotent, and runs as one multi-statement simple query: the service executes this
-- file at startup. The advisory lock serialises replicas starting at the same time
-- (it is held until the implicit transaction of that query ends).
-- Needs PostgreSQL 14+ (CREATE OR REPLACE TRIGGER).
SELECT pg_advisory_xact_lock(hashtext('hero_ids_notify'));

CREATE OR REPLACE FUNCTION hero_ids_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM pg_notify('hero_ids', '+' || NEW.id);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('hero_ids', '-' || OLD.id);
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.id IS DISTINCT FROM OLD.id THEN
            PERFORM pg_notify('hero_ids', '-' || OLD.id);
            PERFORM pg_notify('hero_ids', '+' || NEW.id);
        END IF;
    ELSIF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('hero_ids', '*');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER hero_ids_row
    AFTER INSERT OR DELETE OR UPDATE OF id ON hero
    FOR EACH ROW EXECUTE FUNCTION hero_ids_notify();

CREATE OR REPLACE TRIGGER hero_ids_truncate
    AFTER TRUNCATE ON hero
    FOR EACH STATEMENT EXECUTE FUNCTION hero_ids_notify();
