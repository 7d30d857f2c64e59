// The one list of engines. Each engine declares what it is (its `engine` values, default port and
// database, name limits) and its verbs (shared/engines/types.ts); the breach response and the
// operator CLI find the engine of a secret here. A rotation function imports only its own engine,
// so that its bundle carries one database driver.
//
// Adding an engine: its folder under shared/engines/, one entry here (see ARCHITECTURE.md).

import { mysqlEngine } from './mysql';
import { postgresql } from './postgresql';
import type { Engine } from './types';

export const ENGINES: readonly Engine[] = [postgresql, mysqlEngine];

/** The engine that rotates secrets whose `engine` field is `engineField`, if any. */
export function engineFor(engineField: string): Engine | undefined {
  return ENGINES.find((engine) => engine.engineValues.includes(engineField));
}

/** Every `engine` value some engine rotates, for messages. */
export const ENGINE_VALUES: readonly string[] = ENGINES.flatMap((engine) => engine.engineValues);
