-- Locations table, the same shape as the original Quarkus schema. Idempotent.
--
-- Two names are the same name only when they differ in letter case alone. `name` is kept
-- as sent, compared byte for byte (a NO PAD binary collation: accents, emoji and trailing
-- spaces count); `name_key`, its lower case under the same collation, carries the unique
-- key and the lookups by name. The ALTERs bring a table created by an older version of
-- this script (default collation, unique key on `name`) to the same shape.
CREATE TABLE IF NOT EXISTS locations (
    id bigint NOT NULL AUTO_INCREMENT,
    description text,
    name varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    picture varchar(255),
    type ENUM('CITY','PLANET','PLACE','ISLAND','COUNTRY','MOON') NOT NULL,
    name_key varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin
        AS (LOWER(name)) PERSISTENT,
    PRIMARY KEY (id),
    UNIQUE KEY uk_locations_name_key (name_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE locations
    MODIFY name varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL;
ALTER TABLE locations
    ADD COLUMN IF NOT EXISTS name_key varchar(50) CHARACTER SET utf8mb4
        COLLATE utf8mb4_nopad_bin AS (LOWER(name)) PERSISTENT;
ALTER TABLE locations DROP INDEX IF EXISTS uk_locations_name;
ALTER TABLE locations ADD UNIQUE KEY IF NOT EXISTS uk_locations_name_key (name_key);
