/** Columns of numbers kept in typed arrays by the POS import (no object per row). */
export type NumberColumn = Int32Array | Float64Array | Uint8Array;

/** The column copied into a new one of the same type with room for `capacity` values. */
export function grown<T extends NumberColumn>(column: T, capacity: number): T {
	const bigger = new (column.constructor as new (length: number) => T)(capacity);
	bigger.set(column);
	return bigger;
}
