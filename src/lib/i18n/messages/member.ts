/** Messages of the member screens (keys prefixed 'member.'). */
export const ja = {} as const;

export const en: Record<keyof typeof ja, string> = {};
