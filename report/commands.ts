// The subcommands that read reports: `report` (files) and `collect` (a client Job's pod logs).
import type { Command } from 'commander';
import type { CommandIo } from '../common/command-io.js';
import { registerCollectCommand } from './collect-command.js';
import { registerReportCommand } from './command.js';

export function registerReportCommands(program: Command, io: CommandIo): void {
  registerReportCommand(program, io);
  registerCollectCommand(program, io);
}
