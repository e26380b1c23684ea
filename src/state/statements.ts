import type Database from 'better-sqlite3';

/** Prepared statements by their SQL, made once per connection (preparing costs more than most of our queries). */
export function statementCache(db: Database.Database): (sql: string) => Database.Statement<unknown[]> {
  const made = new Map<string, Database.Statement<unknown[]>>();
  return (sql) => {
    let s = made.get(sql);
    if (!s) {
      s = db.prepare<unknown[]>(sql);
      made.set(sql, s);
    }
    return s;
  };
}
