import { isDtaError, type DtaErrorCode } from '../../src/errors.js';

/** Awaits `promise` and checks it rejects with a DtaError of `code`. */
export async function expectDtaError(promise: Promise<unknown>, code: DtaErrorCode): Promise<void> {
  const outcome = await promise.then(
    () => 'resolved',
    (error: unknown) => error,
  );
  if (!isDtaError(outcome, code)) {
    throw new Error(`expected DtaError ${code}, got ${outcome instanceof Error ? `${outcome.name} ${(outcome as { code?: string }).code ?? ''}: ${outcome.message}` : String(outcome)}`);
  }
}
