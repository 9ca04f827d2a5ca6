-- Table and id sequence of heros, the same shape as the original Quarkus schema
-- (unquoted identifiers, so PostgreSQL folds otherName to othername).
-- Idempotent: safe to run against a database that already has them.
create sequence if not exists hero_seq start 1 increment 50;
create table if not exists hero (
    id int8 not null,
    level int4 not null,
    name varchar(50) not null,
    otherName varchar(255),
    picture varchar(255),
    powers text,
    primary key (id)
);
