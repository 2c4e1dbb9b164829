// Loaded by node-tap before its own module hooks in every test process (package.json tap
// "node-arg"; --require runs before --import). tap's process tracker records each module a test
// loads, with its line lengths and source map, for coverage; it is told to skip node_modules here,
// which coverage never reports. For @kubernetes/client-node (967 files) the recording costs a test
// process 3.3 s of CPU, against 1 s to load it; tap itself costs 0.7 s more per test file.
// It relies on the tracker's own exclude setting (_TAPJS_PROCESSINFO_EXCLUDE_, which tap's runner
// sets without node_modules): should a later tap ignore it, the tests only run slower.
'use strict';
process.env._TAPJS_PROCESSINFO_EXCLUDE_ = String(/(^node:|[\\/](\.tap|tap-snapshots|node_modules)[\\/])/);
