import type { SandboxClock } from '../clock';
import type { Body } from '../input';
import type { RotationOrchestrator } from '../orchestrator';
import type { SecretStore } from '../store';

export interface OperationContext {
  store: SecretStore;
  clock: SandboxClock;
  rotations: RotationOrchestrator;
}

export type Operation = (body: Body, ctx: OperationContext) => unknown;

export const SECRET_ID = { min: 1, max: 2048 };
export const CLIENT_REQUEST_TOKEN = { min: 32, max: 64 };
export const SECRET_STRING_MAX = 65_536;
