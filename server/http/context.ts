import type { Logger } from '../logger.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/index.ts';

/** Everything a request handler may use; built once in main.ts (or a test) and passed in. */
export interface AppDeps {
	config: Config;
	db: Db;
	logger: Logger;
}

export interface AppEnv {
	Variables: {
		requestId: string;
		log: Logger;
	};
}
