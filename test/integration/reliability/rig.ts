// Starts the reliability rig (local/faults/rig.ts) on the integration project's databases.

import { inject } from 'vitest';
import { Rig, type RigEngine, type RigOptions } from '../../../local/faults/rig';

export async function startTestRig(engines: readonly RigEngine[] = ['postgresql', 'mariadb'], options: Partial<RigOptions> = {}): Promise<Rig> {
  const tls = inject('tls');
  const databases = engines.map((engine) => ({ ...(engine === 'postgresql' ? inject('postgres') : inject('mariadb')), engine }));
  return Rig.start({ databases, caFile: tls.caFile, caPem: tls.caPem, ...options });
}
