/**
 * What a call ended with, as the stable error code a test can compare: `'ok'`
 * when it resolved, the {@link TesseraError} code when it was refused. Any
 * other failure is thrown on: it is a bug, not an answer.
 */
import { TesseraError } from 'tessera-auth';

export async function codeOf(promise: unknown): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof TesseraError) return error.code;
    throw error;
  }
}
