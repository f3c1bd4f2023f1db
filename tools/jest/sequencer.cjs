// Runs the slowest test files first so that no worker is left with one long file at the end of the
// run while the other idles (one 7-10 minute file started late costs CI that much wall time).
// Jest does this by itself only when its cache holds timings from an earlier run, and CI runs in a
// fresh clone, where Jest falls back to file size (a poor guide: the slowest files here are short
// files that start processes). So durations.json holds the seconds each file took in a CI run;
// Jest's own cached timings, when present, win. Files in neither (new ones) run first, as in Jest.
// Refresh: node tools/jest/durations.mjs <a CI log with Jest's PASS/FAIL lines>.
const { relative } = require('node:path');
// Jest's own default sequencer, found through jest so that it is the one this Jest runs.
const Sequencer = require(require.resolve('@jest/test-sequencer', { paths: [require.resolve('jest')] })).default;
const known = require('./durations.json');

class DurationSequencer extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached !== undefined) return cached;
    const seconds = known[relative(test.context.config.rootDir, test.path).split('\\').join('/')];
    return seconds === undefined ? undefined : seconds * 1000;
  }
}

module.exports = DurationSequencer;
