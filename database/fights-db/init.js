// First-start initialisation of the fights MongoDB (mongo:7.0, /docker-entrypoint-initdb.d).
// Creates the application user and the Fights collection with its newest-first index, and
// the index of the statistics counters in FightStats (the fights service also creates it
// at start).
// Safe to run again: existing user, collection and index are left as they are.
const fights = db.getSiblingDB('fights');

if (fights.getUser('superfight') === null) {
  fights.createUser({
    user: 'superfight',
    pwd: 'superfight',
    roles: [{ role: 'readWrite', db: 'fights' }],
  });
}

if (!fights.getCollectionNames().includes('Fights')) {
  fights.createCollection('Fights');
}

fights.getCollection('Fights').createIndex({ fightDate: -1 }, { name: 'fightDate_desc' });
fights.getCollection('FightStats').createIndex({ rank: 1, name: 1, team: 1 });
