#!/usr/bin/env node
// The bin: runs the CLI on this process (cli/main.ts does the work and picks the exit code).
import { main } from './main.js';
import { processIo } from './process-io.js';

process.exitCode = await main(process.argv, processIo());
