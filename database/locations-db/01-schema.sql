-- Locations table, the same shape as the original Quarkus schema. Idempotent.
CREATE TABLE IF NOT EXISTS locations (
    id bigint NOT NULL AUTO_INCREMENT,
    description text,
    name varchar(50) NOT NULL,
    picture varchar(255),
    type ENUM('CITY','PLANET','PLACE','ISLAND','COUNTRY','MOON') NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uk_locations_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
