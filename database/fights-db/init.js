// First-start initialisation of the fights MongoDB (mongo:7.0, /docker-entrypoint-initdb.d).
// Creates the application user, the Fights collection with its newest-first index and
// the index the fight statistics read (the fights service also creates them at start),
// and stores the three seed fights of fights.json when the collection holds none (fixed
// ids, as load_fights.py does for the native system and the test stand-in).
// Safe to run again: existing user, collection, index and fights are left as they are.
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

const collection = fights.getCollection('Fights');
collection.createIndex({ fightDate: -1 }, { name: 'fightDate_desc' });
collection.createIndex({ winnerTeam: 1, winnerName: 1 });

if (collection.findOne({}, { _id: 1 }) === null) {
  const seed = EJSON.parse(require('fs').readFileSync('/docker-entrypoint-initdb.d/fights.json', 'utf8'));
  collection.insertMany(seed, { ordered: false });
}
