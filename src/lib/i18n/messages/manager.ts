/** Messages of the manager screens (keys prefixed 'manager.'). */
export const ja = {} as const;

export const en: Record<keyof typeof ja, string> = {};
