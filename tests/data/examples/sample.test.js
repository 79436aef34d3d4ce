// A test node's own runner finds (`node --test` looks for *.test.js).
const test = require('node:test');
const assert = require('node:assert');

test('a dist tag ends the release', () => {
  assert.match('1.fc41', /\.fc\d+$/);
});

test('versions start with a digit', () => {
  assert.ok(/^\d/.test('3.3.0'));
});
