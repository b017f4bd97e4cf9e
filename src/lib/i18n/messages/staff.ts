/** Messages of the staff screens (keys prefixed 'staff.'). */
export const ja = {} as const;

export const en: Record<keyof typeof ja, string> = {};
