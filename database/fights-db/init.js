// First-start initialisation of the fights MongoDB (mongo:7.0, /docker-entrypoint-initdb.d).
// Creates the application user, the Fights collection with its newest-first index, the
// index of the statistics counters in FightStats (the fights service also creates both at
// start), and stores the three seed fights of fights.json with their counters
// (fight-stats.json) when the collection holds no fight (fixed ids, as load_fights.py does
// for the native system and the test stand-in).
// Safe to run again: existing user, collections, indexes and fights are left as they are.
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
fights.getCollection('FightStats').createIndex({ rank: 1, name: 1, team: 1 });

if (collection.findOne({}, { _id: 1 }) === null) {
  const read = (name) => EJSON.parse(require('fs').readFileSync(`/docker-entrypoint-initdb.d/${name}`, 'utf8'));
  collection.insertMany(read('fights.json'), { ordered: false });
  fights.getCollection('FightStats').insertMany(read('fight-stats.json'), { ordered: false });
}
