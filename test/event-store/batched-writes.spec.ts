import { batchInserts } from '../../src/event-store/batched-writes.js';

const comment = (id: number) => ({ sql: `INSERT INTO rm_comments (id, content) VALUES (?, ?)`, params: [id, `c${id}`] });
const upsert = (id: number, name: string) => ({ sql: `INSERT INTO rm_issues (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name`, params: [id, name] });
const edit = (id: number) => ({ sql: `UPDATE rm_comments SET content = ? WHERE id = ?`, params: ['edited', id] });

describe('the rebuild’s writes, batched', () => {
  it('sends each run of the same INSERT as multi-row INSERTs of the batch size, the rest row by row, in the same order', () => {
    const out = batchInserts([comment(1), comment(2), comment(3), comment(4), comment(5), edit(2), comment(6)], 2);
    expect(out).toEqual([
      { sql: `INSERT INTO rm_comments (id, content) VALUES (?, ?), (?, ?)`, params: [1, 'c1', 2, 'c2'] },
      { sql: `INSERT INTO rm_comments (id, content) VALUES (?, ?), (?, ?)`, params: [3, 'c3', 4, 'c4'] },
      comment(5),
      edit(2),
      comment(6),
    ]);
  });

  it('keeps the conflict clause, and cuts a run where a row’s conflict key repeats (one statement may not update a row twice)', () => {
    const out = batchInserts([upsert(1, 'a'), upsert(2, 'b'), upsert(1, 'c'), upsert(3, 'd')], 2);
    expect(out).toEqual([
      { sql: `INSERT INTO rm_issues (id, name) VALUES (?, ?), (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name`, params: [1, 'a', 2, 'b'] },
      { sql: `INSERT INTO rm_issues (id, name) VALUES (?, ?), (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name`, params: [1, 'c', 3, 'd'] },
    ]);
  });

  it('leaves every other statement as it is', () => {
    const other = [edit(1), { sql: `DELETE FROM rm_webhooks WHERE project_id = ?`, params: [1] }, { sql: `INSERT INTO t (a) SELECT 1`, params: [] }];
    expect(batchInserts(other, 2)).toEqual(other);
  });
});
