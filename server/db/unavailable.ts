/**
 * Telling "the database did not answer" apart from every other error: the API turns these into
 * 503 `database_unavailable` (the client may retry), the pool throws away the connection they
 * happened on, workers back off. Anything else stays a bug (500).
 */

/** Messages node-postgres uses for a dead, stalled or unreachable server. */
const CONNECTION_MESSAGES = [
	'Query read timeout',
	'Connection terminated',
	'timeout exceeded when trying to connect',
	'Connection ended unexpectedly',
	'Client has encountered a connection error and is not queryable',
	'Client was closed and is not queryable',
	'Cannot use a pool after calling end on the pool',
	'database unavailable' // our own startup / health timeouts
];

/** Socket-level failures (Node error codes). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs: 08xxx connection exceptions, 57P0x shutdown / cannot connect now, 53300 too many
 * connections, 57014 statement timeout (the server cancelled a query that ran too long).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-4]|53300|57014)$/;

/** True when the connection itself failed: the pooled client must not be reused. */
export function isConnectionFailure(err: unknown): boolean {
	if (!(err instanceof Error)) return false;
	const code = (err as { code?: unknown }).code;
	if (typeof code === 'string' && (SOCKET_CODES.has(code) || /^(08...|57P0[1-3])$/.test(code))) return true;
	return CONNECTION_MESSAGES.some((m) => err.message.includes(m));
}

/** True when the error means the database is (for now) not answering: answer 503, not 500. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
	if (!(err instanceof Error) || depth > 3) return false;
	const code = (err as { code?: unknown }).code;
	if (typeof code === 'string' && UNAVAILABLE_SQLSTATE.test(code)) return true;
	if (isConnectionFailure(err)) return true;
	if (err instanceof AggregateError && err.errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
	return isDatabaseUnavailable((err as { cause?: unknown }).cause, depth + 1);
}

/** Thrown by our own bounded waits (startup, health check) when the database does not answer in time. */
export class DatabaseUnavailableError extends Error {
	constructor(message: string) {
		super(`database unavailable: ${message}`);
		this.name = 'DatabaseUnavailableError';
	}
}
