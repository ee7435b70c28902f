// A list rendered as `items.map(map)` without making the mapped copy first: JSON.stringify uses
// toJSON, and the CLI's streaming writer maps one item at a time (a plan of 50,000 changes).
export class MappedList<T> {
  constructor(
    readonly items: readonly T[],
    readonly map: (item: T) => unknown,
  ) {}

  get length(): number {
    return this.items.length;
  }

  toJSON(): unknown[] {
    return this.items.map(this.map);
  }
}
