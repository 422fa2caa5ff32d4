/** One page of a list: `nextCursor` asks for the next one (`?cursor=`), null on the last. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
